#!/usr/bin/env python3
"""Outbound RTP spacing on the wire, from a loopback capture (pcap, as `dumpcap -P` writes).

Usage: rtp-gaps.py CAPTURE.pcap [SKIP_SECONDS]

Groups packets into streams by (source port, destination port, SSRC) and measures the time
between consecutive packets of a stream whose sequence numbers are consecutive and whose
timestamps are one 20 ms frame (160 samples) apart: the sender's pacing, taken from the
capture's kernel timestamps (on loopback the capture point is the send path), so the
receiver's scheduling plays no part. Prints: streams, gaps, and gap p50 / p99 / p99.9 / max
in milliseconds. SKIP_SECONDS drops the first seconds of the capture (ramp-up).
"""
import struct
import sys

path = sys.argv[1]
skip = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic in (0xA1B2C3D4, 0xA1B23C4D):
    endian = "<"
elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
    endian = ">"
else:
    sys.exit("not a pcap file (use dumpcap -P)")
nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
linktype = struct.unpack(endian + "I", data[20:24])[0]
offset = 24
last = {}
gaps = []
first_time = None
while offset + 16 <= len(data):
    sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
    offset += 16
    packet = data[offset:offset + caplen]
    offset += caplen
    t = sec + frac / (1e9 if nano else 1e6)
    if first_time is None:
        first_time = t
    # Link layer: Ethernet (1, also what Linux loopback captures as) or Linux cooked (113).
    if linktype == 1:
        ip = packet[14:]
    elif linktype == 113:
        ip = packet[16:]
    elif linktype == 276:
        ip = packet[20:]
    else:
        ip = packet
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 0x0F) * 4
    udp = ip[ihl:]
    if len(udp) < 8 + 12:
        continue
    sport, dport = struct.unpack(">HH", udp[:4])
    rtp = udp[8:]
    if rtp[0] >> 6 != 2:
        continue
    seq, ts, ssrc = struct.unpack(">HII", rtp[2:12])
    key = (sport, dport, ssrc)
    previous = last.get(key)
    last[key] = (t, seq, ts)
    if previous is None or t - first_time < skip:
        continue
    pt, pseq, pts = previous
    if (seq - pseq) & 0xFFFF == 1 and (ts - pts) & 0xFFFFFFFF == 160:
        gaps.append((t - pt) * 1000)
gaps.sort()
if not gaps:
    print(f"streams {len(last)} gaps 0")
    sys.exit(0)


def q(p):
    return gaps[min(len(gaps) - 1, max(0, int(len(gaps) * p + 0.999999) - 1))]


print(f"streams {len(last)} gaps {len(gaps)} p50 {q(0.5):.2f} p99 {q(0.99):.2f} p99.9 {q(0.999):.2f} max {gaps[-1]:.2f}")
