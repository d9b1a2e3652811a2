#!/usr/bin/env python3
"""Where an Opus-transcoded bridge's CPU goes, libopus alone: the CPU time of one 20 ms
opus_encode and opus_decode on this machine's libopus, with the encoder settings the server's
AudioTranscoder uses (48 kHz mono, OPUS_APPLICATION_VOIP, 24 kbit/s, in-band FEC at 5 % loss,
libopus's default complexity) and with cheaper settings the server could choose: a lower
complexity, a narrowband ceiling, or running encoder and decoder at 8 kHz (RFC 7587 keeps the
RTP clock at 48 kHz whatever rate the codec runs at internally, so the G.711 leg would need no
resampler). The audio is sip-tester's g711a.pcap speech (8 kHz A-law), linearly interpolated to
48 kHz where needed. Each figure is the median of REPEATS passes over SECONDS of audio.

Usage: Benchmarks/bridge/opus-cost.py [SECONDS] [REPEATS]      (default 10 s, 5 passes)
Needs python3 with numpy and libopus.so.0.
"""
import ctypes
import statistics
import struct
import sys
import time

import numpy as np

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
opus = ctypes.CDLL("libopus.so.0")
opus.opus_get_version_string.restype = ctypes.c_char_p
opus.opus_encoder_create.restype = ctypes.c_void_p
opus.opus_encoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
opus.opus_decoder_create.restype = ctypes.c_void_p
opus.opus_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
opus.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
opus.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
opus.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
opus.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
VOIP = 2048
SET_BITRATE, SET_MAX_BANDWIDTH, SET_COMPLEXITY, GET_COMPLEXITY = 4002, 4004, 4010, 4011
SET_INBAND_FEC, SET_PACKET_LOSS_PERC = 4012, 4014
NARROWBAND = 1101


def speech_8k():
    data = open("/usr/share/sip-tester/g711a.pcap", "rb").read()
    audio, offset = bytearray(), 24
    while offset < len(data):
        incl, = struct.unpack("<I", data[offset + 8:offset + 12])
        frame = data[offset + 16:offset + 16 + incl]
        offset += 16 + incl
        audio += frame[14 + (frame[14] & 0x0F) * 4 + 8 + 12:]
    a = np.frombuffer(bytes(audio), dtype=np.uint8) ^ 0x55
    mantissa, segment = (a & 0x0F).astype(np.int32), ((a & 0x70) >> 4).astype(np.int32)
    t = (mantissa << 4) + 8
    t = np.where(segment == 0, t, (t + 0x100) << np.maximum(segment - 1, 0))
    pcm = np.where(a & 0x80, t, -t).astype(np.int16)
    frames = int(seconds * 50)
    return np.resize(pcm, frames * 160)


def upsample(pcm8, factor=6):
    x = np.arange(len(pcm8) * factor) / factor
    return np.interp(x, np.arange(len(pcm8)), pcm8.astype(np.float64)).astype(np.int16)


def encoder(rate, complexity=None, max_bandwidth=None, bitrate=24000):
    err = ctypes.c_int()
    enc = opus.opus_encoder_create(rate, 1, VOIP, ctypes.byref(err))
    assert err.value == 0 and enc, err.value
    for request, value in [(SET_BITRATE, bitrate), (SET_INBAND_FEC, 1), (SET_PACKET_LOSS_PERC, 5)]:
        assert opus.opus_encoder_ctl(ctypes.c_void_p(enc), request, ctypes.c_int(value)) == 0
    if complexity is not None:
        assert opus.opus_encoder_ctl(ctypes.c_void_p(enc), SET_COMPLEXITY, ctypes.c_int(complexity)) == 0
    if max_bandwidth is not None:
        assert opus.opus_encoder_ctl(ctypes.c_void_p(enc), SET_MAX_BANDWIDTH, ctypes.c_int(max_bandwidth)) == 0
    return enc


def encode_all(enc, pcm, frame):
    out = ctypes.create_string_buffer(1275)
    packets = []
    start = time.process_time_ns()
    for k in range(len(pcm) // frame):
        chunk = pcm[k * frame:(k + 1) * frame]
        n = opus.opus_encode(enc, chunk.ctypes.data, frame, out, 1275)
        assert n > 0, n
        packets.append(out.raw[:n])
    return (time.process_time_ns() - start) / 1000 / (len(pcm) // frame), packets


def decode_all(rate, packets):
    err = ctypes.c_int()
    dec = opus.opus_decoder_create(rate, 1, ctypes.byref(err))
    assert err.value == 0 and dec
    pcm = np.zeros(5760, dtype=np.int16)
    start = time.process_time_ns()
    for p in packets:
        assert opus.opus_decode(dec, p, len(p), pcm.ctypes.data, 5760, 0) > 0
    us = (time.process_time_ns() - start) / 1000 / len(packets)
    opus.opus_decoder_destroy(dec)
    return us


pcm8 = speech_8k()
pcm48 = upsample(pcm8)
probe = encoder(48000)
default_complexity = ctypes.c_int()
opus.opus_encoder_ctl(ctypes.c_void_p(probe), GET_COMPLEXITY, ctypes.byref(default_complexity))
opus.opus_encoder_destroy(probe)
print(f"{opus.opus_get_version_string().decode()}, default complexity {default_complexity.value}; "
      f"{seconds:g} s of speech, median of {repeats} passes; CPU per 20 ms frame")
cases = [
    ("encode 48 kHz, as the server (default complexity)", 48000, pcm48, {}),
    ("encode 48 kHz, complexity 5", 48000, pcm48, {"complexity": 5}),
    ("encode 48 kHz, complexity 1", 48000, pcm48, {"complexity": 1}),
    ("encode 48 kHz, max bandwidth narrowband", 48000, pcm48, {"max_bandwidth": NARROWBAND}),
    ("encode 8 kHz (no resampler needed)", 8000, pcm8, {}),
    ("encode 8 kHz, complexity 5", 8000, pcm8, {"complexity": 5}),
]
server_packets = None
for name, rate, pcm, options in cases:
    times = []
    for _ in range(repeats):
        enc = encoder(rate, **options)
        us, packets = encode_all(enc, pcm, rate // 50)
        opus.opus_encoder_destroy(enc)
        times.append(us)
    if server_packets is None:
        server_packets = packets
    size = sum(map(len, packets)) / len(packets)
    print(f"  {name:52s} {statistics.median(times):7.1f} us  ({size:.0f}-byte packets)")
for name, rate in [("decode to 48 kHz, as the server", 48000), ("decode to 8 kHz (no resampler needed)", 8000)]:
    times = [decode_all(rate, server_packets) for _ in range(repeats)]
    print(f"  {name:52s} {statistics.median(times):7.1f} us")

# The change "Opus agent legs at 8 kHz and complexity 5" moved three settings at once: the codec
# rate (48 -> 8 kHz), the complexity (default -> 5) and the bitrate (24 -> 16 kbit/s). Each one
# alone, from the old settings and back from the new ones; the cases interleave within each pass
# so they share the machine's noise.
old = {"rate": 48000, "complexity": None, "bitrate": 24000}
new = {"rate": 8000, "complexity": 5, "bitrate": 16000}
factors = [
    ("old: 48 kHz, default complexity, 24 kbit/s", old),
    ("old + 8 kHz only", {**old, "rate": 8000}),
    ("old + complexity 5 only", {**old, "complexity": 5}),
    ("old + 16 kbit/s only", {**old, "bitrate": 16000}),
    ("new - 8 kHz (48 kHz, complexity 5, 16 kbit/s)", {**new, "rate": 48000}),
    ("new - complexity 5 (8 kHz, default, 16 kbit/s)", {**new, "complexity": None}),
    ("new - 16 kbit/s (8 kHz, complexity 5, 24 kbit/s)", {**new, "bitrate": 24000}),
    ("new: 8 kHz, complexity 5, 16 kbit/s", new),
]
times = {name: [] for name, _ in factors}
sizes = {}
for _ in range(repeats):
    for name, f in factors:
        enc = encoder(f["rate"], complexity=f["complexity"], bitrate=f["bitrate"])
        us, packets = encode_all(enc, pcm8 if f["rate"] == 8000 else pcm48, f["rate"] // 50)
        opus.opus_encoder_destroy(enc)
        times[name].append(us)
        sizes[name] = sum(map(len, packets)) / len(packets)
base = statistics.median(times[factors[0][0]])
print("the three settings of the 8 kHz change, one at a time (encode, CPU per 20 ms frame, ratio to old):")
for name, _ in factors:
    m = statistics.median(times[name])
    print(f"  {name:52s} {m:7.1f} us  x{m / base:4.2f}  ({sizes[name]:.0f}-byte packets)")
