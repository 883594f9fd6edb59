#!/usr/bin/env python3
"""Generate and cross-check G.711 (mu-law / A-law) golden vectors for VoicePipe.

The reference algorithm is the one of the ITU-T G.191 Software Tool Library
(STL) g711.c module (ulaw_compress, ulaw_expand, alaw_compress, alaw_expand),
re-expressed here in plain Python.

Outputs (written next to this script):
  mulaw_encode.bin   65536 bytes, byte i = mu-law code of Int16(bitPattern: i)
  alaw_encode.bin    65536 bytes, byte i = A-law code of Int16(bitPattern: i)
  mulaw_decode.bin   256 x Int16 little-endian, entry c = decoded code c
  alaw_decode.bin    256 x Int16 little-endian, entry c = decoded code c
  SHA256SUMS         sha256sum-format checksums of the four .bin files
  audioop_mulaw_differences.txt
                     inputs where CPython audioop.lin2ulaw differs from G.191

Requirements: Python 3.11 (audioop is still in the stdlib there) and the PyPI
package `g711` (tested with g711==1.6.5).

Exit status is non-zero if any cross-check expectation is violated.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import warnings

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

# Expected number of 16-bit inputs where audioop.lin2ulaw != G.191 ulaw_compress.
EXPECTED_AUDIOOP_MULAW_ENCODE_DIFFS = 508


def fail(msg: str) -> None:
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------
# G.191 STL reference algorithm (plain Python).
# Python ints are unbounded; ~x == -x - 1 and >> is an arithmetic (floor)
# shift, which is exactly what the C code does on 16-bit two's complement
# `short` values for the ranges that occur here.
# ---------------------------------------------------------------------------

def g191_ulaw_compress(x: int) -> int:
    """16-bit linear PCM sample -> 8-bit mu-law code (G.191 ulaw_compress)."""
    if not -32768 <= x <= 32767:
        raise ValueError(x)
    # One's complement for negative samples, then drop to 14 bits and add
    # the bias of 33 (the offset between the A-law and mu-law thresholds).
    mag = ((~x if x < 0 else x) >> 2) + 33
    if mag > 0x1FFF:
        mag = 0x1FFF
    # Segment number: 1 + number of significant bits above bit 5.
    seg = 1
    t = mag >> 6
    while t:
        seg += 1
        t >>= 1
    high = 8 - seg
    low = 0x0F - ((mag >> seg) & 0x0F)
    code = (high << 4) | low
    if x >= 0:
        code |= 0x80
    return code


def g191_ulaw_expand(code: int) -> int:
    """8-bit mu-law code -> 16-bit linear PCM sample (G.191 ulaw_expand)."""
    if not 0 <= code <= 0xFF:
        raise ValueError(code)
    sign = -1 if code < 0x80 else 1
    inv = ~code  # one's complement of the code
    exponent = (inv >> 4) & 0x07
    segment = exponent + 1
    mantissa = inv & 0x0F
    step = 4 << segment
    return sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)


def g191_alaw_compress(x: int) -> int:
    """16-bit linear PCM sample -> 8-bit A-law code (G.191 alaw_compress)."""
    if not -32768 <= x <= 32767:
        raise ValueError(x)
    ix = (~x if x < 0 else x) >> 4  # one's complement, 13 -> 12 bit magnitude
    if ix > 15:
        exp = 1
        while ix > 16 + 15:
            ix >>= 1
            exp += 1
        ix -= 16          # remove the leading 1
        ix += exp << 4    # put the exponent in bits 4..6
    if x >= 0:
        ix |= 0x80
    return ix ^ 0x55      # toggle the even bits


def g191_alaw_expand(code: int) -> int:
    """8-bit A-law code -> 16-bit linear PCM sample (G.191 alaw_expand)."""
    if not 0 <= code <= 0xFF:
        raise ValueError(code)
    ix = (code ^ 0x55) & 0x7F
    exp = ix >> 4
    mant = ix & 0x0F
    if exp > 0:
        mant += 16
    mant = (mant << 4) + 8
    if exp > 1:
        mant <<= exp - 1
    return mant if code > 0x7F else -mant


def ulaw_compress_shift_then_negate(x: int) -> int:
    """Model of CPython audioop.lin2ulaw (width 2), for documentation only.

    Identical to g191_ulaw_compress except that the 14-bit magnitude of a
    negative sample is computed as -(x >> 2) (two's complement negation after
    the arithmetic shift) instead of G.191's (~x) >> 2.
    """
    mag = (-(x >> 2) if x < 0 else x >> 2) + 33
    if mag > 0x1FFF:
        mag = 0x1FFF
    seg = 1
    t = mag >> 6
    while t:
        seg += 1
        t >>= 1
    code = ((8 - seg) << 4) | (0x0F - ((mag >> seg) & 0x0F))
    if x >= 0:
        code |= 0x80
    return code


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def index_to_int16(i: int) -> int:
    """Table index (UInt16 bit pattern) -> Int16 value."""
    return i - 65536 if i >= 32768 else i


ALL_INPUTS = [index_to_int16(i) for i in range(65536)]
ALL_CODES = list(range(256))


def pcm16le(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}h", *values)


def write(name: str, data: bytes) -> str:
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def count_diffs(a, b) -> int:
    if len(a) != len(b):
        fail(f"length mismatch {len(a)} != {len(b)}")
    return sum(1 for p, q in zip(a, b) if p != q)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main() -> None:
    summary: list[str] = []

    # 1. Build the reference tables.
    mu_enc = bytes(g191_ulaw_compress(x) for x in ALL_INPUTS)
    a_enc = bytes(g191_alaw_compress(x) for x in ALL_INPUTS)
    mu_dec = [g191_ulaw_expand(c) for c in ALL_CODES]
    a_dec = [g191_alaw_expand(c) for c in ALL_CODES]

    # Basic self-consistency of the reference implementation.
    for name, dec in (("mu-law", mu_dec), ("A-law", a_dec)):
        if any(not -32768 <= v <= 32767 for v in dec):
            fail(f"{name} decode value out of Int16 range")
    if max(mu_dec) != 32124 or min(mu_dec) != -32124:
        fail(f"mu-law decode range is {min(mu_dec)}..{max(mu_dec)}, expected +-32124")
    if max(a_dec) != 32256 or min(a_dec) != -32256:
        fail(f"A-law decode range is {min(a_dec)}..{max(a_dec)}, expected +-32256")
    # Well-known fixed points.
    if (mu_enc[0], mu_enc[0xFFFF]) != (0xFF, 0x7F):
        fail("mu-law encode of 0 / -1 is not 0xFF / 0x7F")
    if (a_enc[0], a_enc[0xFFFF]) != (0xD5, 0x55):
        fail("A-law encode of 0 / -1 is not 0xD5 / 0x55")
    if (mu_dec[0xFF], mu_dec[0x7F], mu_dec[0x80], mu_dec[0x00]) != (0, 0, 32124, -32124):
        fail("mu-law decode of 0xFF/0x7F/0x80/0x00 is not 0/0/32124/-32124")
    if (a_dec[0xD5], a_dec[0x55], a_dec[0xAA], a_dec[0x2A]) != (8, -8, 32256, -32256):
        fail("A-law decode of 0xD5/0x55/0xAA/0x2A is not 8/-8/32256/-32256")
    # One's complement symmetry: a negative x gets the same magnitude code as
    # the non-negative ~x (= -x - 1); only the sign bit differs.
    for x in range(-32768, 0):
        i, j = x & 0xFFFF, ~x
        if mu_enc[i] != mu_enc[j] & 0x7F or a_enc[i] != a_enc[j] ^ 0x80:
            fail(f"one's complement symmetry broken at {x}")

    # 2. Write the vectors and checksums.
    files = {
        "mulaw_encode.bin": mu_enc,
        "alaw_encode.bin": a_enc,
        "mulaw_decode.bin": pcm16le(mu_dec),
        "alaw_decode.bin": pcm16le(a_dec),
    }
    sums = []
    for name, data in files.items():
        write(name, data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    write("SHA256SUMS", "".join(sums).encode("ascii"))
    summary.append("wrote " + ", ".join(f"{n} ({len(d)} bytes)" for n, d in files.items()))

    # 3a. Cross-check against the PyPI `g711` package.
    #     Its float convention: encode does (int)(f * 32768.0f) (truncation,
    #     then clip to Int16); decode returns code_value / 32768 as float32.
    #     Every Int16 divided by 32768 is exactly representable in float32,
    #     so the mapping below is exact in both directions.
    try:
        import g711  # type: ignore
    except ImportError:
        fail("PyPI package `g711` is not installed (pip install g711==1.6.5)")

    floats = [x / 32768.0 for x in ALL_INPUTS]
    # Verify the float mapping round-trips exactly through float32.
    f32 = struct.unpack(f"<{len(floats)}f", struct.pack(f"<{len(floats)}f", *floats))
    if any(round(f * 32768.0) != x or f * 32768.0 != x for f, x in zip(f32, ALL_INPUTS)):
        fail("Int16 -> float32 mapping is not exact; g711 comparison would be invalid")

    def g711_decode(fn, codes) -> list[int]:
        out = []
        for f in fn(bytes(codes)).tolist():
            v = f * 32768.0
            if v != int(v):
                fail(f"g711 decode produced a non-integer sample {v}")
            out.append(int(v))
        return out

    pkg_mu_enc = bytes(g711.encode_ulaw(floats))
    pkg_a_enc = bytes(g711.encode_alaw(floats))
    pkg_mu_dec = g711_decode(g711.decode_ulaw, ALL_CODES)
    pkg_a_dec = g711_decode(g711.decode_alaw, ALL_CODES)

    pkg_results = {
        "mu-law encode": (count_diffs(mu_enc, pkg_mu_enc), 65536),
        "mu-law decode": (count_diffs(mu_dec, pkg_mu_dec), 256),
        "A-law encode": (count_diffs(a_enc, pkg_a_enc), 65536),
        "A-law decode": (count_diffs(a_dec, pkg_a_dec), 256),
    }
    try:
        from importlib.metadata import version
        g711_version = version("g711")
    except Exception:  # pragma: no cover
        g711_version = "unknown"
    for what, (n, total) in pkg_results.items():
        if n:
            fail(f"PyPI g711 {g711_version}: {what} differs from G.191 on {n} of {total}")
    summary.append(
        f"PyPI g711 {g711_version}: agrees with G.191 on all 65536 mu-law and "
        f"65536 A-law encode inputs and all 256+256 decode codes"
    )

    # 3b. Cross-check against CPython audioop (width 2).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop  # removed from the stdlib in Python 3.13
        except ImportError:
            fail("audioop not available (needs Python <= 3.12)")

    pcm_all = pcm16le(ALL_INPUTS)
    ao_mu_enc = audioop.lin2ulaw(pcm_all, 2)
    ao_a_enc = audioop.lin2alaw(pcm_all, 2)
    ao_mu_dec = list(struct.unpack("<256h", audioop.ulaw2lin(bytes(ALL_CODES), 2)))
    ao_a_dec = list(struct.unpack("<256h", audioop.alaw2lin(bytes(ALL_CODES), 2)))

    n = count_diffs(a_enc, ao_a_enc)
    if n:
        fail(f"audioop.lin2alaw differs from G.191 on {n} inputs (expected 0)")
    n = count_diffs(a_dec, ao_a_dec)
    if n:
        fail(f"audioop.alaw2lin differs from G.191 on {n} codes (expected 0)")
    n = count_diffs(mu_dec, ao_mu_dec)
    if n:
        fail(f"audioop.ulaw2lin differs from G.191 on {n} codes (expected 0)")

    diffs = [(x, g, o) for x, g, o in zip(ALL_INPUTS, mu_enc, ao_mu_enc) if g != o]
    diffs.sort()
    if len(diffs) != EXPECTED_AUDIOOP_MULAW_ENCODE_DIFFS:
        fail(f"audioop.lin2ulaw differs from G.191 on {len(diffs)} inputs "
             f"(expected {EXPECTED_AUDIOOP_MULAW_ENCODE_DIFFS})")
    if any(x >= 0 for x, _, _ in diffs):
        fail("audioop.lin2ulaw differs from G.191 on a non-negative input")
    # Explain the difference: audioop (derived from the Sun Microsystems g711.c)
    # shifts first and then negates, i.e. its 14-bit magnitude for a negative
    # sample is -(x >> 2), whereas G.191 uses the one's complement (~x) >> 2.
    # -(x >> 2) == ((~x) >> 2) + 1 for every negative x, so audioop's magnitude
    # is always exactly one 14-bit step larger. The code only changes where
    # that step crosses a mu-law decision threshold. Check that this model
    # reproduces audioop on all 65536 inputs.
    model = bytes(ulaw_compress_shift_then_negate(x) for x in ALL_INPUTS)
    n = count_diffs(model, ao_mu_enc)
    if n:
        fail(f"shift-then-negate model differs from audioop.lin2ulaw on {n} inputs")
    for x in range(-32768, 0):
        if -(x >> 2) != ((~x) >> 2) + 1:
            fail(f"magnitude identity broken at {x}")
    # Shape of the difference: for each of the 127 decision thresholds between
    # adjacent negative codes (G.191 code g in 0x01..0x7F vs g - 1), exactly
    # four consecutive inputs (one 14-bit step) get code g from G.191 and the
    # next larger-magnitude code g - 1 from audioop. 127 * 4 == 508.
    blocks = [diffs[i:i + 4] for i in range(0, len(diffs), 4)]
    if sorted(b[0][1] for b in blocks) != list(range(0x01, 0x80)):
        fail("audioop differences do not cover each negative threshold exactly once")
    for b in blocks:
        xs = [d[0] for d in b]
        if xs != list(range(xs[0], xs[0] + 4)):
            fail(f"audioop differences near {xs[0]} are not 4 consecutive inputs")
        if any(d[1] != b[0][1] or d[2] != d[1] - 1 for d in b):
            fail(f"audioop differences near {xs[0]} are not (g, g - 1) code pairs")
    lines = [
        "# Inputs where CPython audioop.lin2ulaw(width=2) differs from ITU-T G.191 ulaw_compress.\n",
        f"# {len(diffs)} lines, all negative inputs. Columns: input (Int16), G.191 code, audioop code.\n",
    ]
    lines += [f"{x} 0x{g:02X} 0x{o:02X}\n" for x, g, o in diffs]
    write("audioop_mulaw_differences.txt", "".join(lines).encode("ascii"))
    summary.append(
        "audioop: A-law encode 65536/65536, A-law decode 256/256, mu-law decode "
        f"256/256 agree; mu-law encode differs on {len(diffs)} negative inputs "
        f"({len(blocks)} thresholds x 4, {diffs[0][0]}..{diffs[-1][0]}) "
        "-> audioop_mulaw_differences.txt"
    )

    # 4. Sanity: decode then re-encode every code.
    mu_rt_bad = [(c, mu_enc[mu_dec[c] & 0xFFFF]) for c in ALL_CODES
                 if mu_enc[mu_dec[c] & 0xFFFF] != c]
    a_rt_bad = [(c, a_enc[a_dec[c] & 0xFFFF]) for c in ALL_CODES
                if a_enc[a_dec[c] & 0xFFFF] != c]
    if mu_rt_bad != [(0x7F, 0xFF)]:
        fail(f"mu-law decode->encode round trip exceptions {mu_rt_bad}, expected only 0x7F->0xFF")
    if a_rt_bad:
        fail(f"A-law decode->encode round trip exceptions {a_rt_bad}, expected none")
    summary.append(
        "round trip decode->encode: A-law 256/256 codes identical; mu-law 255/256, "
        "0x7F (negative zero, decodes to 0) re-encodes as 0xFF"
    )

    print("G.711 golden vectors: OK")
    for line in summary:
        print("  " + line)
    for line in sums:
        print("  " + line.rstrip("\n"))


if __name__ == "__main__":
    main()
