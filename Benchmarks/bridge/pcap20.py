#!/usr/bin/env python3
"""Benchmarks/bridge.sh: sip-tester's g711a.pcap (7 s of speech, PCMA in 30 ms frames) as a
pcap of 20 ms PCMA frames, the speech looped to SECONDS, for SIPp's play_pcap_audio.

Usage: pcap20.py OUT.pcap [SECONDS] [SOURCE.pcap]
"""
import struct
import sys

out = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
source = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/sip-tester/g711a.pcap"

data = open(source, "rb").read()
magic, = struct.unpack("<I", data[:4])
if magic != 0xA1B2C3D4:
    sys.exit(f"{source}: not a little-endian microsecond pcap")
linktype, = struct.unpack("<I", data[20:24])
if linktype != 1:
    sys.exit(f"{source}: link type {linktype}, expected Ethernet")
audio = bytearray()
offset = 24
while offset < len(data):
    _, _, incl, _ = struct.unpack("<IIII", data[offset:offset + 16])
    frame = data[offset + 16:offset + 16 + incl]
    offset += 16 + incl
    ihl = (frame[14] & 0x0F) * 4
    rtp = frame[14 + ihl + 8:]
    if rtp[1] & 0x7F != 8:
        sys.exit(f"{source}: payload type {rtp[1] & 0x7F}, expected PCMA (8)")
    cc = rtp[0] & 0x0F
    audio += rtp[12 + 4 * cc:]

frames = int(seconds * 50)
while len(audio) < frames * 160:
    audio = audio + audio
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for k in range(frames):
        payload = bytes(audio[k * 160:(k + 1) * 160])
        rtp = struct.pack("!BBHII", 0x80 | 0, 8 | (0x80 if k == 0 else 0), k & 0xFFFF, k * 160, 0x0B1D6E01) + payload
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        total = 20 + len(udp)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        eth = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = k * 20_000
        f.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(eth), len(eth)))
        f.write(eth)
