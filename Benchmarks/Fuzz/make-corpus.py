#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Corpus/<target>/ (committed; rerun after
changing the sources below, from any directory). libFuzzer's own finds go elsewhere
(var/fuzz/, see Benchmarks/fuzz.sh), so these stay small and readable.

Sources:
- FuzzSIPMessage: the RFC 4475-style torture fixtures (Tests/SIPCoreTests/Fixtures/torture)
  and every distinct message the SIPp scenarios send (the conformance kit's, when
  ../shared/conformance is there, and Tests/IntegrationTests/Scenarios), their [keywords]
  replaced by plausible values;
- FuzzStreamFramer: one control byte (slicing and timing, see the target) and a stream made
  of those messages, with RFC 5626 pings and pongs between them;
- FuzzSDP: the bodies of those messages, the SDP test fixtures, a few odd descriptions;
- FuzzRTP: hand-built datagrams (length byte, then the packet): G.711 audio, RFC 4733 events
  as a phone sends a key press, CSRC/extension/padding;
- FuzzDialplan: the shipped dialplans, the integration tests' and the checker's fixtures,
  included files appended after `#--- <name>` lines.
Files named regression-* are inputs that crashed a target, kept after the fix (each also has
a unit test); this script leaves them alone.
"""
import glob
import os
import re
import struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(FUZZ, "..", ".."))
CONFORMANCE = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance", "scenarios"))
OUT = os.path.join(FUZZ, "Corpus")

corpora = {name: {} for name in ["FuzzSIPMessage", "FuzzStreamFramer", "FuzzSDP", "FuzzRTP", "FuzzDialplan"]}


def add(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if data not in corpora[target].values():
        corpora[target][name] = data


# MARK: SIP messages

for path in sorted(glob.glob(os.path.join(ROOT, "Tests/SIPCoreTests/Fixtures/torture/*.sip"))):
    add("FuzzSIPMessage", "torture-" + os.path.basename(path), open(path, "rb").read())

# SIPp keywords, as a UDP call from 127.0.0.1:5061 to the server on 127.0.0.1:5060 would have them.
KEYWORDS = {
    "local_ip": "127.0.0.1", "local_port": "5061", "remote_ip": "127.0.0.1", "remote_port": "5060",
    "service": "12345", "call_number": "1", "pid": "4242", "transport": "UDP",
    "call_id": "1-4242@127.0.0.1", "branch": "z9hG4bK-4242-1-0", "local_ip_type": "4",
    "media_ip": "127.0.0.1", "media_ip_type": "4", "media_port": "6000", "media_port+2": "6002",
    "peer_tag_param": ";tag=srv1", "routes": "Route: <sip:127.0.0.1:5060;lr>",
    "next_url": "sip:12345@127.0.0.1:5060", "user": "2001", "cseq": "1",
    "authentication": 'Authorization: Digest username="2001", realm="hotline", nonce="abc123", '
                      'uri="sip:127.0.0.1:5060", response="0123456789abcdef0123456789abcdef", algorithm=MD5',
    "last_Via:": "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-srv-1;rport=5060;received=127.0.0.1",
    "last_From:": "From: <sip:40001@127.0.0.1>;tag=srvfrom1",
    "last_To:": "To: <sip:2001@127.0.0.1:5061>",
    "last_Call-ID:": "Call-ID: srv-1@127.0.0.1",
    "last_CSeq:": "CSeq: 1 INVITE",
}


def render(template):
    lines = [line.strip() for line in template.strip("\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    text = "\n".join(lines)
    head, _, body = text.partition("\n\n")
    body = body.strip("\n")
    body = body + "\n" if body else ""

    def keyword(match):
        key = match.group(1)
        return KEYWORDS.get(key, match.group(0))
    head = re.sub(r"\[([A-Za-z_0-9:+\-]+)\]", keyword, head)
    body = re.sub(r"\[([A-Za-z_0-9:+\-]+)\]", keyword, body).replace("\n", "\r\n")
    head = "\r\n".join(line for line in head.split("\n") if line)  # [routes] may be empty
    head = head.replace("[len]", str(len(body.encode())))
    return (head + "\r\n\r\n" + body).encode()


def scenario_messages():
    paths = sorted(glob.glob(os.path.join(CONFORMANCE, "*.xml"))) + \
        sorted(glob.glob(os.path.join(ROOT, "Tests/IntegrationTests/Scenarios/*.xml")))
    seen_shapes = set()
    for path in paths:
        text = open(path, encoding="latin-1").read()
        for i, template in enumerate(re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", text, re.S)):
            message = render(template)
            first, _, rest = message.partition(b"\r\n")
            names = tuple(sorted({line.split(b":")[0].strip().lower() for line in rest.split(b"\r\n\r\n")[0].split(b"\r\n")}))
            shape = (first.split(b" ")[0] if not first.startswith(b"SIP/") else first[:12], names, b"v=0" in message)
            if shape in seen_shapes:
                continue
            seen_shapes.add(shape)
            yield os.path.basename(path)[:-4], i, message


messages = list(scenario_messages())
for scenario, i, message in messages:
    kind = message.split(b" ")[0].decode() if not message.startswith(b"SIP/") else message[8:11].decode()
    add("FuzzSIPMessage", f"sipp-{scenario}-{i}-{kind}.sip", message)

# MARK: streams

by_kind = {}
for _, _, m in messages:
    by_kind.setdefault(m.split(b" ")[0], m)
invite, ack, bye = by_kind.get(b"INVITE"), by_kind.get(b"ACK"), by_kind.get(b"BYE")
ok = next(m for _, _, m in messages if m.startswith(b"SIP/2.0 200"))
ping, pong = b"\r\n\r\n", b"\r\n"
streams = {
    "call": (0x00, invite + ack + bye),
    "call-sliced-slowly": (0x27, invite + ack + bye),
    "pings-between": (0x13, ping + invite + pong + ping + ack + ping + bye + pong),
    "keepalive-only": (0x05, ping + ping + pong + ping + b"\r\n\r"),
    "response-then-request": (0x4a, ok + invite),
    "compact-length": (0x31, invite.replace(b"Content-Length:", b"l:") + bye.replace(b"Content-Length:", b"l   :")),
    "bare-lf": (0x62, invite.split(b"\r\n\r\n")[0].replace(b"\r\n", b"\n") + b"\n\n" + invite.split(b"\r\n\r\n", 1)[1] + bye),
    "truncated-body": (0x08, invite[:-20]),
    "no-content-length": (0x11, b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n\r\n"),
    "two-lengths": (0x09, b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcd"),
    "slow-loris": (0xf3, invite[:200]),
}
torture = sorted(glob.glob(os.path.join(ROOT, "Tests/SIPCoreTests/Fixtures/torture/accept-*.sip")))[:4]
for path in torture:
    streams["torture-" + os.path.basename(path)[:-4]] = (0x1c, open(path, "rb").read() + ping + bye)
for name, (control, stream) in streams.items():
    add("FuzzStreamFramer", name + ".bin", bytes([control]) + stream)

# MARK: SDP

for scenario, i, message in messages:
    body = message.split(b"\r\n\r\n", 1)[1]
    if body.startswith(b"v=0"):
        add("FuzzSDP", f"sipp-{scenario}-{i}.sdp", body)
fixtures = open(os.path.join(ROOT, "Tests/SDPTests/SDPFixtures.swift")).read()
for name, block in re.findall(r'static let (\w+) = crlf\("""\n(.*?)\n\s*"""\)', fixtures, re.S):
    lines = block.split("\n")
    indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    add("FuzzSDP", f"fixture-{name}.sdp", "\r\n".join(l[indent:] for l in lines))
add("FuzzSDP", "torture-invite-body.sdp",
    "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n")
add("FuzzSDP", "scrambled-order.sdp",
    "v=0\na=recvonly\nt=0 0\nc=IN IP4 10.1.1.1\ns=call\nb=CT:128\no=- 7 9 IN IP4 10.1.1.1\n"
    "m=audio 4000/2 RTP/AVP 8\na=ptime:30\nc=IN IP4 10.1.1.2\nb=AS:80\ni=voice\n")
add("FuzzSDP", "hold-ipv6-opus.sdp",
    "v=0\r\no=- 1 2 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\na=sendonly\r\n"
    "m=audio 5004 RTP/AVPF 111 101\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 useinbandfec=1\r\na=rtpmap:101 telephone-event/48000\r\na=ptime:40\r\na=inactive\r\n"
    "m=audio 0 RTP/SAVP 0\r\nm=video 5006 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e"  # 30 bytes, SDPCryptoTests' key
srtp_head = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
add("FuzzSDP", "srtp-savp.sdp", srtp_head + "m=audio 40000 RTP/SAVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=crypto:1 AEAD_AES_256_GCM inline:" + key + "\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "\r\na=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^31\r\n")
add("FuzzSDP", "srtp-best-effort-avp.sdp", srtp_head + "m=audio 40000 RTP/AVP 111 0 101\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4\r\na=crypto:8 AES_CM_128_HMAC_SHA1_80 inline:" + key + "\r\n"
    "a=rtpmap:101 telephone-event/48000\r\n")

# MARK: RTP


def rtp(payload_type, sequence, timestamp, ssrc, payload, marker=False, csrcs=(), extension=None, padding=0):
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension is not None else 0) | len(csrcs)
    packet = struct.pack("!BBHII", first, (0x80 if marker else 0) | payload_type, sequence, timestamp, ssrc)
    packet += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension is not None:
        profile, data = extension
        packet += struct.pack("!HH", profile, len(data) // 4) + data
    packet += payload
    if padding:
        packet += b"\0" * (padding - 1) + bytes([padding])
    return packet


def event(code, end, volume, duration):
    return struct.pack("!BBH", code, (0x80 if end else 0) | volume, duration)


def datagrams(*packets):
    return b"".join(bytes([len(p)]) + p for p in packets)


silence = bytes([0xFF]) * 160
tone = bytes((i * 37) & 0xFF for i in range(160))
add("FuzzRTP", "pcmu-one.bin", datagrams(rtp(0, 1000, 160000, 0x11223344, silence, marker=True)))
add("FuzzRTP", "pcma-run.bin", datagrams(*[rtp(8, 65534 + i & 0xFFFF, 8000 + 160 * i, 0xCAFE, tone) for i in range(4)]))
key3 = [rtp(101, 200, 48000, 0xABCD, event(3, False, 10, 160), marker=True),
        rtp(101, 201, 48000, 0xABCD, event(3, False, 10, 320)),
        rtp(101, 202, 48000, 0xABCD, event(3, False, 10, 480))] + \
       [rtp(101, 203 + i, 48000, 0xABCD, event(3, True, 10, 640)) for i in range(3)]
add("FuzzRTP", "rfc4733-key3.bin", datagrams(*key3))
add("FuzzRTP", "rfc4733-two-keys-lost-start.bin",
    datagrams(rtp(0, 10, 1000, 7, silence), rtp(101, 12, 1160, 7, event(1, False, 10, 320)),
              rtp(101, 13, 1160, 7, event(1, True, 10, 800)), rtp(101, 14, 2960, 7, event(11, True, 63, 800), marker=True),
              rtp(101, 15, 1160, 7, event(1, True, 10, 800))))
add("FuzzRTP", "rfc4733-long-event-and-flash.bin",
    datagrams(rtp(101, 1, 0xFFFFF000, 9, event(5, False, 10, 0xFFFF), marker=True),
              rtp(101, 2, 0xFFFFF000 + 0xFFFF & 0xFFFFFFFF, 9, event(5, False, 10, 800)),
              rtp(101, 3, 500, 9, event(16, True, 10, 1600), marker=True)))
add("FuzzRTP", "csrc-extension-padding.bin",
    datagrams(rtp(0, 7, 7, 7, tone[:40], csrcs=(1, 2, 3), extension=(0xBEDE, b"\x10\xAA\0\0"), padding=4)))
add("FuzzRTP", "ssrc-reset-and-short.bin",
    datagrams(rtp(101, 1, 100, 0, event(2, False, 10, 160), marker=True), rtp(101, 2, 100, 5, b"\x02"),
              b"\x80\x65\x00", rtp(0, 3, 260, 5, b"")))

# MARK: dialplans


def dialplan_with_includes(path, includes=()):
    text = open(path, encoding="utf-8").read()
    base = os.path.dirname(path)
    for name in includes:
        text += f"\n#--- {name}\n" + open(os.path.join(base, name), encoding="utf-8").read()
    return text


add("FuzzDialplan", "shipped-12345.yaml", dialplan_with_includes(os.path.join(ROOT, "Dialplans/12345.yaml"), ["12345/enterprise.yaml"]))
add("FuzzDialplan", "shipped-bench.yaml", dialplan_with_includes(os.path.join(ROOT, "Dialplans/bench.yaml")))
for path in sorted(glob.glob(os.path.join(ROOT, "Tests/IntegrationTests/Dialplans/*.yaml"))):
    add("FuzzDialplan", "integration-" + os.path.basename(path), dialplan_with_includes(path))
add("FuzzDialplan", "graph-sample.yaml", dialplan_with_includes(os.path.join(ROOT, "Tests/DialplanTests/Fixtures/graph/sample.yaml")))
for path in sorted(glob.glob(os.path.join(ROOT, "Tests/DialplanTests/Fixtures/checks/*.yaml"))):
    text = open(path, encoding="utf-8").read()
    includes = []
    match = re.search(r"^include: \[(.*)\]", text, re.M)
    if match:
        includes = [n.strip() for n in match.group(1).split(",")
                    if os.path.exists(os.path.join(os.path.dirname(path), n.strip()))]
    add("FuzzDialplan", "check-" + os.path.basename(path), dialplan_with_includes(path, includes))

# MARK: write

for target, files in corpora.items():
    directory = os.path.join(OUT, target)
    os.makedirs(directory, exist_ok=True)
    # regression-* files are inputs a run found and a fix answered: kept, never regenerated.
    for old in os.listdir(directory):
        if not old.startswith("regression-"):
            os.remove(os.path.join(directory, old))
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(files)} files, {sum(map(len, files.values()))} bytes")
