#!/usr/bin/env python3
"""Check the SoX-made WAV fixtures in this folder and describe them in manifest.json.

    python3 TestVectors/wav/verify_fixtures.py            # check files, manifest.json and SHA256SUMS
    python3 TestVectors/wav/verify_fixtures.py --write    # check files, rewrite manifest.json and SHA256SUMS

make_fixtures.sh runs this with --write. If sox is on PATH, it also pipes every Int16 value through
sox's G.711 encoders. Uses only the standard library of Python 3.11/3.12:
`audioop` (removed in 3.13) provides the reference G.711 decoders. The RIFF parser is written
here because the `wave` module of 3.11 refuses WAVE_FORMAT_EXTENSIBLE files.
Prints one line per check and exits 1 at the first "FAIL:".
"""
import argparse
import audioop
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
G711_DIR = os.path.join(HERE, "..", "g711")
RATE = 8000
FRAMES = 2000
MAX_FILE_BYTES = 20 * 1024
# KSDATAFORMAT_SUBTYPE_PCM {00000001-0000-0010-8000-00AA00389B71} as stored in the file.
PCM_SUBFORMAT_GUID = bytes.fromhex("0100000000001000800000aa00389b71")
EXTENSIBLE = 0xFFFE


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok    " + message)


def info(message):
    print("info  " + message)


# ---------------------------------------------------------------------------------------------
# RIFF/WAVE parsing

def parse_wav(name):
    path = os.path.join(HERE, name)
    raw = open(path, "rb").read()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        fail(name + ": not RIFF/WAVE")
    w = {"name": name, "bytes": len(raw), "riffSize": struct.unpack_from("<I", raw, 4)[0],
         "sha256": hashlib.sha256(raw).hexdigest(), "chunks": []}
    pos = 12
    while pos < len(raw):
        if pos + 8 > len(raw):
            fail(name + ": truncated chunk header at %d" % pos)
        cid = raw[pos:pos + 4].decode("latin-1")
        size = struct.unpack_from("<I", raw, pos + 4)[0]
        body = raw[pos + 8:pos + 8 + size]
        if len(body) != size:
            fail(name + ": chunk %r runs past the end of the file" % cid)
        w["chunks"].append({"id": cid, "size": size, "offset": pos})
        if cid == "fmt ":
            tag, ch, rate, byte_rate, block, bits = struct.unpack_from("<HHIIHH", body, 0)
            w.update(formatTag=tag, channels=ch, sampleRate=rate, byteRate=byte_rate,
                     blockAlign=block, bitsPerSample=bits, fmtChunkSize=size, cbSize=None)
            if size >= 18:
                w["cbSize"] = struct.unpack_from("<H", body, 16)[0]
            if tag == EXTENSIBLE:
                if size < 40:
                    fail(name + ": extensible fmt chunk of only %d bytes" % size)
                valid, mask = struct.unpack_from("<HI", body, 18)
                guid = body[24:40]
                w.update(validBitsPerSample=valid, channelMask=mask, subFormatGUID=guid,
                         subFormatTag=struct.unpack_from("<H", guid, 0)[0])
        elif cid == "fact":
            w["factSampleLength"] = struct.unpack_from("<I", body, 0)[0]
        elif cid == "data":
            w["data"] = body
            w["dataOffset"] = pos + 8
        pos += 8 + size + (size & 1)
    return w


def int16s(w):
    d = w["data"]
    return list(struct.unpack("<%dh" % (len(d) // 2), d))


def float32s(w):
    d = w["data"]
    return list(struct.unpack("<%df" % (len(d) // 4), d))


def int24s(w):
    d = w["data"]
    return [int.from_bytes(d[i:i + 3], "little", signed=True) for i in range(0, len(d), 3)]


# SoX 14.4.2 encodes G.711 from its 32-bit internal samples by ROUNDING to 14 bits (mu-law) or
# 13 bits (A-law), then applying the Sun Microsystems g711.c encoder, which is also what CPython's
# audioop uses. ITU-T G.191 truncates instead. Model of sox's encoder for 16-bit input:
SOX_G711_BITS = {"mulaw": 14, "alaw": 13}


def sox_g711_encode(law, samples16):
    bits = SOX_G711_BITS[law]
    shift = 16 - bits
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    rounded = [max(lo, min(hi, (x + (1 << (shift - 1))) >> shift)) << shift for x in samples16]
    enc = audioop.lin2ulaw if law == "mulaw" else audioop.lin2alaw
    return enc(struct.pack("<%dh" % len(rounded), *rounded), 2)


def deinterleave(samples, channels):
    return [samples[c::channels] for c in range(channels)]


# ---------------------------------------------------------------------------------------------
# Float32 arithmetic as VoicePipe's reader does it (WAVFile+Parse.swift, AudioClip.pcm16Sample)

def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def round_half_away(x):
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def voicepipe_like_downmix_pcm16(channels_int16):
    """Sum x/32768 in Float, multiply by Float(1/n), then scale by 32768 and round half away."""
    n = len(channels_int16)
    scale = f32(1.0 / 32768)
    channel_scale = f32(1.0 / n)
    floats, rounded = [], []
    for frame in zip(*channels_int16):
        total = f32(0.0)
        for x in frame:
            total = f32(total + f32(x * scale))
        out = f32(total * channel_scale)
        floats.append(out)
        rounded.append(max(-32768, min(32767, round_half_away(f32(out * 32768)))))
    return floats, rounded


# ---------------------------------------------------------------------------------------------

FILES = [
    # name, expected tag, sub-format tag, encoding, channels, bits, fmt chunk size, chunk order
    ("tone_pcm16.wav", 1, None, "pcm16", 1, 16, 16, ["fmt ", "data"]),
    ("tone_float32.wav", 3, None, "float32", 1, 32, 18, ["fmt ", "fact", "data"]),
    ("tone_mulaw.wav", 7, None, "mulaw", 1, 8, 18, ["fmt ", "fact", "data"]),
    ("tone_mulaw_decoded_pcm16.wav", 1, None, "pcm16", 1, 16, 16, ["fmt ", "data"]),
    ("tone_alaw.wav", 6, None, "alaw", 1, 8, 18, ["fmt ", "fact", "data"]),
    ("tone_alaw_decoded_pcm16.wav", 1, None, "pcm16", 1, 16, 16, ["fmt ", "data"]),
    ("stereo_pcm16.wav", 1, None, "pcm16", 2, 16, 16, ["fmt ", "data"]),
    ("stereo_mixdown_pcm16.wav", 1, None, "pcm16", 1, 16, 16, ["fmt ", "data"]),
    ("three_channel_pcm16_extensible.wav", EXTENSIBLE, 1, "pcm16", 3, 16, 40, ["fmt ", "fact", "data"]),
    ("three_channel_mixdown_pcm16.wav", 1, None, "pcm16", 1, 16, 16, ["fmt ", "data"]),
    ("tone_pcm24_extensible.wav", EXTENSIBLE, 1, "pcm24", 1, 24, 40, ["fmt ", "fact", "data"]),
]

DESCRIPTIONS = {
    "tone_pcm16.wav": "The source signal: 0.5*sin(2*pi*440*t) + 0.25*sin(2*pi*1000*t) (440 Hz at -6.02 dBFS, "
                      "1 kHz at -12.04 dBFS), 0.25 s, made by sox synth. All other tone_* files derive from it.",
    "tone_float32.wav": "tone_pcm16.wav converted by sox to IEEE float; every value is exactly pcm16/32768.",
    "tone_mulaw.wav": "tone_pcm16.wav encoded by sox to G.711 mu-law. sox rounds each sample to 14 bits, then "
                      "uses the Sun encoder (as CPython audioop.lin2ulaw); for this signal the codes equal G.191's.",
    "tone_mulaw_decoded_pcm16.wav": "sox's decode of tone_mulaw.wav to 16-bit PCM.",
    "tone_alaw.wav": "tone_pcm16.wav encoded by sox to G.711 A-law. sox rounds each sample to 13 bits before "
                     "encoding, where G.191 truncates, so 40 of the 2000 codes (inputs 7677 and 11262) are one step "
                     "above G.191's. Use it to test decoding, not encoding.",
    "tone_alaw_decoded_pcm16.wav": "sox's decode of tone_alaw.wav to 16-bit PCM.",
    "stereo_pcm16.wav": "Left = tone_pcm16.wav (bit-identical), right = 0.5*sin(2*pi*300*t).",
    "stereo_mixdown_pcm16.wav": "sox's mono average of stereo_pcm16.wav (remix 1v0.5,2v0.5): "
                                "floor((L+R)/2 + 1/2), i.e. the exact average rounded half up.",
    "three_channel_pcm16_extensible.wav": "WAVE_FORMAT_EXTENSIBLE, 16-bit PCM, 3 channels: tone_pcm16.wav, "
                                          "0.5*sin(300 Hz), 0.5*sin(700 Hz). dwChannelMask is 0.",
    "three_channel_mixdown_pcm16.wav": "sox's mono average of the three-channel file (remix 1-3): "
                                       "(c1+c2+c3)/3 rounded to nearest (no ties occur).",
    "tone_pcm24_extensible.wav": "WAVE_FORMAT_EXTENSIBLE, 24-bit PCM, mono (dwChannelMask 4 = front centre); "
                                 "samples are tone_pcm16.wav << 8. VoicePipe must reject it as unsupported.",
}

MIXDOWN_NOTE = (
    "sox computes the exact average in double and rounds it to 16 bits half up (towards +infinity). "
    "The exact average lies up to {frac} LSB off the 16-bit grid, so a reader that keeps floats differs "
    "from the reference by at most {frac} LSB (plus float32 rounding, < 0.01 LSB), and a reader that "
    "rounds to Int16 differs by at most 1 LSB, depending on its tie rule and rounding.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="rewrite manifest.json and SHA256SUMS")
    ap.add_argument("--sox-version", default=None, help="recorded in manifest.json (default: keep)")
    ap.add_argument("--no-sox", action="store_true",
                    help="skip the check that runs sox on every Int16 (the manifest is then not compared)")
    args = ap.parse_args()

    w = {spec[0]: parse_wav(spec[0]) for spec in FILES}

    # --- headers and chunk layout ------------------------------------------------------------
    for name, tag, subtag, enc, ch, bits, fmt_size, chunk_ids in FILES:
        h = w[name]
        ids = [c["id"] for c in h["chunks"]]
        block = ch * bits // 8
        check(h["formatTag"] == tag, "%s: format tag 0x%04X" % (name, tag))
        check(h["channels"] == ch and h["sampleRate"] == RATE and h["bitsPerSample"] == bits,
              "%s: %d ch, %d Hz, %d bits per sample" % (name, ch, RATE, bits))
        check(h["blockAlign"] == block and h["byteRate"] == RATE * block,
              "%s: blockAlign %d, byteRate %d" % (name, block, RATE * block))
        check(len(h["data"]) == FRAMES * block, "%s: data chunk holds %d frames" % (name, FRAMES))
        check(ids == chunk_ids, "%s: chunks in order %s (no LIST or other extra chunk)" % (name, ids))
        check(h["riffSize"] == h["bytes"] - 8, "%s: RIFF size = file size - 8 = %d" % (name, h["riffSize"]))
        check(h["fmtChunkSize"] == fmt_size, "%s: fmt chunk size %d" % (name, fmt_size))
        if fmt_size == 16:
            check(h["cbSize"] is None, "%s: no cbSize field (plain 16-byte PCMWAVEFORMAT)" % name)
        elif fmt_size == 18:
            check(h["cbSize"] == 0, "%s: cbSize 0" % name)
        if "fact" in ids:
            check(h["factSampleLength"] == FRAMES, "%s: fact dwSampleLength = %d" % (name, FRAMES))
        if tag == EXTENSIBLE:
            check(h["cbSize"] == 22, "%s: cbSize 22" % name)
            check(h["subFormatGUID"] == PCM_SUBFORMAT_GUID,
                  "%s: SubFormat GUID is KSDATAFORMAT_SUBTYPE_PCM (tag %d)" % (name, h["subFormatTag"]))
            check(h["validBitsPerSample"] == bits, "%s: wValidBitsPerSample %d" % (name, bits))
            info("%s: dwChannelMask 0x%X" % (name, h["channelMask"]))
        check(h["bytes"] < MAX_FILE_BYTES, "%s: %d bytes (< 20 KB)" % (name, h["bytes"]))

    # --- signal content ----------------------------------------------------------------------
    tone = int16s(w["tone_pcm16.wav"])
    model = [32767 * (0.5 * math.sin(2 * math.pi * 440 * n / RATE) + 0.25 * math.sin(2 * math.pi * 1000 * n / RATE))
             for n in range(FRAMES)]
    err = max(abs(a - b) for a, b in zip(tone, model))
    check(err <= 1.0, "tone_pcm16: within 1 LSB of 32767*(0.5 sin 440 Hz + 0.25 sin 1 kHz) (max %.3f)" % err)
    info("tone_pcm16: peak %d / %d" % (max(tone), min(tone)))

    fl = float32s(w["tone_float32.wav"])
    check([x * 32768 for x in fl] == tone, "tone_float32 * 32768 == tone_pcm16 exactly (all 2000 samples)")

    summary = {}
    for law, dec_fn, tbl in (("mulaw", audioop.ulaw2lin, "mulaw"), ("alaw", audioop.alaw2lin, "alaw")):
        codes = w["tone_%s.wav" % law]["data"]
        decoded_ref = int16s(w["tone_%s_decoded_pcm16.wav" % law])
        ours = list(struct.unpack("<%dh" % len(codes), dec_fn(codes, 2)))
        check(ours == decoded_ref,
              "tone_%s: audioop G.711 decode of the raw codes == tone_%s_decoded_pcm16 exactly" % (law, law))
        check(sox_g711_encode(law, tone) == codes,
              "tone_%s: sox's codes == model 'round to %d bits, then audioop.lin2%s'"
              % (law, SOX_G711_BITS[law], law.replace("mu", "u")))
        qerr = max(abs(a - b) for a, b in zip(decoded_ref, tone))
        info("tone_%s: decoded vs tone_pcm16 max |error| %d LSB (G.711 quantisation)" % (law, qerr))
        entry = {"quantisationMaxErrorLSB": qerr}
        dec_tbl = os.path.join(G711_DIR, tbl + "_decode.bin")
        enc_tbl = os.path.join(G711_DIR, tbl + "_encode.bin")
        if os.path.exists(dec_tbl) and os.path.exists(enc_tbl):
            d = open(dec_tbl, "rb").read()
            table = struct.unpack("<256h", d)
            check([table[c] for c in codes] == decoded_ref,
                  "tone_%s: ../g711/%s_decode.bin (G.191) decode == sox decode exactly" % (law, tbl))
            e = open(enc_tbl, "rb").read()
            g191 = [e[x & 0xFFFF] for x in tone]
            diffs = [(x, g, c) for x, g, c in zip(tone, g191, codes) if g != c]
            info("tone_%s: sox's encoder differs from ../g711/%s_encode.bin (G.191) on %d of %d samples%s"
                 % (law, tbl, len(diffs), FRAMES,
                    (": e.g. input %d -> G.191 0x%02X, sox 0x%02X" % diffs[0]) if diffs else ""))
            expected = {"mulaw": 0, "alaw": 40}[law]   # stated in DESCRIPTIONS and README.md
            check(len(diffs) == expected, "tone_%s: %d codes differ from G.191 (as documented)" % (law, expected))
            if law == "alaw":
                check(sorted(set(x for x, _, _ in diffs)) == [7677, 11262],
                      "tone_alaw: the differing inputs are 7677 and 11262")
            entry["encoderDiffersFromG191Samples"] = len(diffs)
        else:
            info("../g711 tables not found; G.191 cross-check skipped")
        summary[law] = entry

    sox = None if args.no_sox else shutil.which("sox")
    if sox is None:
        info("sox not used: the all-Int16 encoder sweep is skipped")
    else:
        # Every Int16 once, through sox as headerless audio (stdin -> stdout, no files).
        every = list(range(-32768, 32768))
        for law, ext, tbl in (("mulaw", "ul", "mulaw"), ("alaw", "al", "alaw")):
            run = subprocess.run([sox, "-D", "-R", "-t", "s16", "-r", str(RATE), "-c", "1", "-",
                                  "-t", ext, "-"], input=struct.pack("<65536h", *every),
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
            codes = run.stdout
            check(codes == sox_g711_encode(law, every),
                  "sweep: sox %s encoding of all 65536 Int16 == model 'round to %d bits, then audioop'"
                  % (law, SOX_G711_BITS[law]))
            pcm = struct.pack("<65536h", *every)
            n_ao = sum(a != b for a, b in zip(codes, (audioop.lin2ulaw if law == "mulaw" else audioop.lin2alaw)(pcm, 2)))
            enc_tbl = os.path.join(G711_DIR, tbl + "_encode.bin")
            if os.path.exists(enc_tbl):
                e = open(enc_tbl, "rb").read()
                diff = [x for x, c in zip(every, codes) if e[x & 0xFFFF] != c]
                info("sweep: sox %s differs from G.191 (../g711) on %d of 65536 inputs (%d negative), "
                     "from audioop on %d" % (law, len(diff), sum(x < 0 for x in diff), n_ao))
                summary.setdefault("sweep", {})[law] = {"differsFromG191": len(diff), "differsFromAudioop": n_ao}

    left, right = deinterleave(int16s(w["stereo_pcm16.wav"]), 2)
    check(left == tone, "stereo_pcm16: left channel == tone_pcm16 exactly")
    s300 = [32767 * 0.5 * math.sin(2 * math.pi * 300 * n / RATE) for n in range(FRAMES)]
    err = max(abs(a - b) for a, b in zip(right, s300))
    check(err <= 1.0, "stereo_pcm16: right within 1 LSB of 0.5*32767*sin(300 Hz) (max %.3f)" % err)
    mix2 = int16s(w["stereo_mixdown_pcm16.wav"])
    check(mix2 == [(l + r + 1) // 2 for l, r in zip(left, right)],
          "stereo_mixdown: == floor((L+R)/2 + 1/2) exactly (average, ties rounded towards +inf)")
    exact2 = [(l + r) / 2 for l, r in zip(left, right)]
    d = max(abs(a - b) for a, b in zip(mix2, exact2))
    check(d == 0.5, "stereo_mixdown: max |ref - (L+R)/2| = %.3f LSB" % d)
    ties = sum(1 for l, r in zip(left, right) if (l + r) % 2)
    ties_neg = sum(1 for l, r in zip(left, right) if (l + r) % 2 and l + r < 0)
    info("stereo_mixdown: %d of %d frames have odd L+R (a .5 tie); %d of them are negative" % (ties, FRAMES, ties_neg))
    summed = [max(-32768, min(32767, l + r)) for l, r in zip(left, right)]
    check(mix2 != summed, "stereo_mixdown: is not the plain sum L+R")

    c1, c2, c3 = deinterleave(int16s(w["three_channel_pcm16_extensible.wav"]), 3)
    check(c1 == tone and c2 == right, "three_channel: channel 1 == tone_pcm16, channel 2 == stereo right exactly")
    s700 = [32767 * 0.5 * math.sin(2 * math.pi * 700 * n / RATE) for n in range(FRAMES)]
    err = max(abs(a - b) for a, b in zip(c3, s700))
    check(err <= 1.0, "three_channel: channel 3 within 1 LSB of 0.5*32767*sin(700 Hz) (max %.3f)" % err)
    mix3 = int16s(w["three_channel_mixdown_pcm16.wav"])
    check(mix3 == [(2 * (a + b + c) + 3) // 6 for a, b, c in zip(c1, c2, c3)],
          "three_channel_mixdown: == floor((c1+c2+c3)/3 + 1/2) exactly (average, rounded to nearest)")
    d3 = max(abs(m - (a + b + c) / 3) for m, a, b, c in zip(mix3, c1, c2, c3))
    check(abs(d3 - 1 / 3) < 1e-9, "three_channel_mixdown: max |ref - (c1+c2+c3)/3| = %.4f LSB" % d3)

    p24 = int24s(w["tone_pcm24_extensible.wav"])
    check(p24 == [x * 256 for x in tone], "tone_pcm24: samples == tone_pcm16 << 8 exactly")

    # A reader that works like VoicePipe's (Float32 sum * Float(1/n), then AudioClip.pcm16Sample).
    sim = {}
    for name, chans, ref in (("stereo_pcm16.wav", [left, right], mix2),
                             ("three_channel_pcm16_extensible.wav", [c1, c2, c3], mix3)):
        floats, rounded = voicepipe_like_downmix_pcm16(chans)
        dmax_f = max(abs(x * 32768 - r) for x, r in zip(floats, ref))
        diffs = [(r2 - r) for r2, r in zip(rounded, ref) if r2 != r]
        info("%s: simulated Float32 downmix vs sox reference: max %.4f LSB before rounding; "
             "after round-half-away-from-zero %d samples differ (max %d LSB)"
             % (name, dmax_f, len(diffs), max((abs(x) for x in diffs), default=0)))
        check(dmax_f <= 0.5 + 0.01 and all(abs(x) <= 1 for x in diffs),
              "%s: simulated reader within the manifest tolerance" % name)
        sim[name] = {"maxDiffLSBFloat": round(dmax_f, 4), "roundedSamplesDiffering": len(diffs)}

    # --- manifest ----------------------------------------------------------------------------
    refs = {
        "tone_float32.wav": ("tone_pcm16.wav", 0, "float32 values are exactly pcm16/32768."),
        "tone_mulaw.wav": ("tone_mulaw_decoded_pcm16.wav", 0,
                           "G.711 decoding is a fixed table; sox's decode equals audioop.ulaw2lin and the G.191 "
                           "table in ../g711/mulaw_decode.bin."),
        "tone_alaw.wav": ("tone_alaw_decoded_pcm16.wav", 0,
                          "G.711 decoding is a fixed table; sox's decode equals audioop.alaw2lin and the G.191 "
                          "table in ../g711/alaw_decode.bin."),
        "stereo_pcm16.wav": ("stereo_mixdown_pcm16.wav", 1, MIXDOWN_NOTE.format(frac="0.5")
                             + " Ties: %d of %d frames have an odd L+R; VoicePipe-style rounding (half away from "
                               "zero) is 1 LSB below the reference on the %d negative ones." % (ties, FRAMES, ties_neg)),
        "three_channel_pcm16_extensible.wav": ("three_channel_mixdown_pcm16.wav", 1, MIXDOWN_NOTE.format(frac="1/3")
                                               + " No ties occur (the fraction is 0, 1/3 or 2/3), so rounding to "
                                                 "nearest in float32 reproduces the reference exactly."),
    }
    unrounded = {"stereo_pcm16.wav": 0.5, "three_channel_pcm16_extensible.wav": 0.34}
    derived = {
        "tone_float32.wav": "tone_pcm16.wav", "tone_mulaw.wav": "tone_pcm16.wav", "tone_alaw.wav": "tone_pcm16.wav",
        "tone_mulaw_decoded_pcm16.wav": "tone_mulaw.wav", "tone_alaw_decoded_pcm16.wav": "tone_alaw.wav",
        "stereo_mixdown_pcm16.wav": "stereo_pcm16.wav",
        "three_channel_mixdown_pcm16.wav": "three_channel_pcm16_extensible.wav",
        "tone_pcm24_extensible.wav": "tone_pcm16.wav",
    }
    files = []
    for name, tag, subtag, enc, ch, bits, fmt_size, chunk_ids in FILES:
        h = w[name]
        e = {
            "name": name,
            "description": DESCRIPTIONS[name],
            "formatTag": h["formatTag"],
            "formatTagHex": "0x%04X" % h["formatTag"],
            "subFormatTag": h.get("subFormatTag"),
            "encoding": enc,
            "channels": h["channels"],
            "sampleRate": h["sampleRate"],
            "frames": len(h["data"]) // h["blockAlign"],
            "bitsPerSample": h["bitsPerSample"],
            "blockAlign": h["blockAlign"],
            "fmtChunkSize": h["fmtChunkSize"],
            "cbSize": h["cbSize"],
        }
        if h["formatTag"] == EXTENSIBLE:
            e["validBitsPerSample"] = h["validBitsPerSample"]
            e["channelMask"] = h["channelMask"]
            e["subFormatGUID"] = "00000001-0000-0010-8000-00AA00389B71"
        e.update({
            "chunks": [{"id": c["id"], "size": c["size"]} for c in h["chunks"]],
            "factSampleLength": h.get("factSampleLength"),
            "dataOffset": h["dataOffset"],
            "dataBytes": len(h["data"]),
            "fileBytes": h["bytes"],
            "sha256": h["sha256"],
            "derivedFrom": derived.get(name),
            "readerExpectation": "reject: unsupportedEncoding" if enc == "pcm24" else
                                 ("decode (downmix requested)" if ch > 1 else "decode"),
            "reference": None,
            "maxDiffLSB": None,
            "toleranceNote": None,
        })
        if name in refs:
            ref, tol, note = refs[name]
            e["reference"], e["maxDiffLSB"], e["toleranceNote"] = ref, tol, note
            if name in unrounded:
                e["maxDiffLSBBeforeRounding"] = unrounded[name]
                e["voicePipeSimulation"] = sim[name]
        if enc in ("mulaw", "alaw"):
            e["encoderCheck"] = dict(summary[enc])
            e["encoderCheck"]["soxEncoderModel"] = ("round the 16-bit sample to %d bits (half up), then the Sun "
                                                   "g711.c encoder (= audioop.lin2%s)"
                                                   % (SOX_G711_BITS[enc], enc.replace("mu", "u")))
            if "sweep" in summary:
                e["encoderCheck"]["allInt16InputsDifferFromG191"] = summary["sweep"][enc]["differsFromG191"]
        if name == "stereo_pcm16.wav":
            e["channelReferences"] = {"left": "tone_pcm16.wav (exact)"}
        if name == "three_channel_pcm16_extensible.wav":
            e["channelReferences"] = {"1": "tone_pcm16.wav (exact)", "2": "right channel of stereo_pcm16.wav (exact)"}
        files.append(e)

    manifest_path = os.path.join(HERE, "manifest.json")
    sums_path = os.path.join(HERE, "SHA256SUMS")
    old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    sox_version = args.sox_version or old.get("soxVersion")
    if sox is not None and not args.sox_version:
        out = subprocess.run([sox, "--version"], stdout=subprocess.PIPE, text=True, check=True).stdout
        sox_version = re.search(r"SoX v\S+", out).group(0)
    manifest = {
        "generator": "TestVectors/wav/make_fixtures.sh (sox -D -R), checked by verify_fixtures.py",
        "soxVersion": sox_version,
        "lsbDefinition": "1 LSB = 1/32768 of full scale; compare a reader's Float output * 32768 with the "
                         "reference file's Int16 samples",
        "referenceFormat": "every reference file is mono 16-bit PCM, 8000 Hz, 44-byte header (data at offset 44)",
        "files": files,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    sums = "".join("%s  %s\n" % (w[s[0]]["sha256"], s[0]) for s in FILES)
    if args.write:
        open(manifest_path, "w").write(text)
        open(sums_path, "w").write(sums)
        print("wrote manifest.json and SHA256SUMS")
    else:
        if sox is not None:
            check(os.path.exists(manifest_path) and open(manifest_path).read() == text,
                  "manifest.json is up to date")
        check(os.path.exists(sums_path) and open(sums_path).read() == sums, "SHA256SUMS matches the files")
    print("ALL CHECKS PASSED")


if __name__ == "__main__":
    main()
