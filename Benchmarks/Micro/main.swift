// hotline-micro: the per-message SIP work in a loop, for instruction counts under callgrind
// (Benchmarks/sip-parse-instructions.sh). Instruction counts do not depend on what else the
// machine is doing, so two builds compare exactly on this shared, noisy machine.
//
// Usage: hotline-micro parse|serialize N

import Foundation
import NIOCore
import SIPCore

let invite = """
    INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r
    Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-12345-1-0\r
    From: "tests" <sip:40001@127.0.0.1:5061>;tag=12345Tag1\r
    To: <sip:12345@127.0.0.1:5060>\r
    Call-ID: 1-12345@127.0.0.1\r
    CSeq: 1 INVITE\r
    Contact: <sip:tests@127.0.0.1:5061>\r
    Max-Forwards: 70\r
    User-Agent: hotline-tests\r
    Content-Type: application/sdp\r
    Content-Length: 209\r
    \r
    v=0\r
    o=conf 53655765 2353687637 IN IP4 127.0.0.1\r
    s=-\r
    c=IN IP4 127.0.0.1\r
    t=0 0\r
    m=audio 12000 RTP/AVP 0 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:101 telephone-event/8000\r
    a=fmtp:101 0-16\r
    a=ptime:20\r
    a=sendrecv\r

    """
let bytes = Array(invite.utf8)
let arguments = CommandLine.arguments
guard arguments.count == 3, let n = Int(arguments[2]) else {
    print("usage: hotline-micro parse|serialize N")
    exit(2)
}
var checksum = 0
switch arguments[1] {
case "parse":
    for _ in 0..<n {
        let message = try SIPMessageParser.parse(datagram: bytes)
        if case .request(let request) = message { checksum &+= request.headers.count }
    }
case "serialize":
    guard case .request(let request) = try SIPMessageParser.parse(datagram: bytes) else { exit(1) }
    let body = Array(invite.utf8.suffix(209))
    var buffer = ByteBufferAllocator().buffer(capacity: 2048)
    for _ in 0..<n {
        var ok = SIPResponse(to: request, status: .ok, toTag: "as7d6f8")
        ok.headers.append(.contact, "<sip:12345@127.0.0.1:5060>")
        ok.headers.append(.contentType, "application/sdp")
        ok.body = body
        buffer.clear()
        ok.write(into: &buffer)
        checksum &+= buffer.readableBytes
    }
default:
    print("usage: hotline-micro parse|serialize N")
    exit(2)
}
print(checksum)
