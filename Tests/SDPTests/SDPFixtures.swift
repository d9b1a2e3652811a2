/// Offers as real agents send them, with CRLF line ends as on the wire.
enum SDPFixtures {
    static func crlf(_ lines: String) -> String {
        lines.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
    }

    /// SIPp's uac scenario with RFC 4733 DTMF (`-sf uac_pcap.xml` style).
    static let sipp = crlf("""
    v=0
    o=user1 53655765 2353687637 IN IP4 127.0.0.1
    s=-
    c=IN IP4 127.0.0.1
    t=0 0
    m=audio 6000 RTP/AVP 0 101
    a=rtpmap:0 PCMU/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-16

    """)

    /// baresip: opus first, G.711, telephone-event, rtcp port, a video m-line.
    static let baresip = crlf("""
    v=0
    o=- 1947206367 1432614009 IN IP4 192.168.1.10
    s=-
    c=IN IP4 192.168.1.10
    t=0 0
    a=tool:baresip 3.10.1
    m=audio 10112 RTP/AVP 111 0 8 101
    b=AS:64
    a=rtpmap:111 opus/48000/2
    a=fmtp:111 stereo=1;sprop-stereo=1
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=rtcp:10113
    a=sendrecv
    a=label:1
    m=video 10114 RTP/AVP 96
    b=AS:500
    a=rtpmap:96 H264/90000
    a=fmtp:96 packetization-mode=1
    a=rtcp:10115
    a=sendrecv

    """)

    /// linphone behind NAT: ICE candidates, media-level c= with the public
    /// address, several telephone-event clock rates.
    static let linphone = crlf("""
    v=0
    o=alice 3129 3081 IN IP4 192.168.0.20
    s=Talk
    c=IN IP4 192.168.0.20
    t=0 0
    a=ice-pwd:31ec21eb38b2ec6d36e8dc7b
    a=ice-ufrag:0e2a1d1f
    a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
    a=record:off
    m=audio 7078 RTP/AVP 96 97 98 0 8 101 99 100
    c=IN IP4 203.0.113.5
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 useinbandfec=1
    a=rtpmap:97 SILK/16000
    a=rtpmap:98 speex/16000
    a=fmtp:98 vbr=on
    a=rtpmap:101 telephone-event/48000
    a=rtpmap:99 telephone-event/16000
    a=rtpmap:100 telephone-event/8000
    a=rtcp:7079
    a=candidate:1 1 UDP 2130706431 192.168.0.20 7078 typ host
    a=candidate:2 1 UDP 1694498815 203.0.113.5 7078 typ srflx raddr 192.168.0.20 rport 7078
    a=rtcp-fb:* trr-int 1000
    m=video 9078 RTP/AVP 96
    c=IN IP4 203.0.113.5
    a=rtpmap:96 VP8/90000

    """)

    /// Asterisk 18 as a trunk: A-law first, GSM, telephone-event 101.
    static let asterisk = crlf("""
    v=0
    o=- 1614683120 1614683120 IN IP4 10.0.0.5
    s=Asterisk
    c=IN IP4 10.0.0.5
    t=0 0
    m=audio 17942 RTP/AVP 8 0 3 101
    a=rtpmap:8 PCMA/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:3 GSM/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-16
    a=ptime:20
    a=maxptime:150
    a=sendrecv

    """)

    /// An offer with only the given media lines after a standard header.
    static func offer(sessionLines: String = "c=IN IP4 198.51.100.7", _ mediaSections: String) -> String {
        crlf("""
        v=0
        o=- 42 1 IN IP4 198.51.100.7
        s=-
        \(sessionLines)
        t=0 0
        \(mediaSections)

        """)
    }
}
