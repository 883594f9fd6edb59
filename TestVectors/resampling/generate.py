#!/usr/bin/env python3
"""Generate golden vectors for VoicePipe's streaming resampler.

Primary reference : soxr (python-soxr / libsoxr), quality VHQ, one-shot
                    `soxr.resample`, which is delay-compensated.
Cross-check       : libsamplerate (python `samplerate`), converter sinc_best.

Every output written here comes from soxr; libsamplerate is only used to
measure how far two independent high-quality resamplers agree, which tells
the Swift tests what tolerance is meaningful.

Outputs (next to this script): *.in.f32, *.soxr.f32 (raw little-endian
float32, no header), manifest.json, SHA256SUMS.  Run:

    pip install soxr==1.1.0 samplerate==0.2.4 numpy==2.4.6 scipy==1.17.1
    python3 TestVectors/resampling/generate.py

Additional analysis (length/alignment conventions, soxr streaming latency)
is printed and stored in manifest.json under "analysis".  The process exits
non-zero if a self-check fails (see check()).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import wave

import numpy as np
import samplerate
import scipy
import scipy.signal
import soxr

HERE = os.path.dirname(os.path.abspath(__file__))
SPEECH_WAV = os.path.join(HERE, "..", "speech", "demo-call.wav")

PINNED = {"soxr": "1.1.0", "samplerate": "0.2.4", "numpy": "2.4.6", "scipy": "1.17.1"}

PAIRS = [
    (8000, 16000), (16000, 8000),
    (8000, 24000), (24000, 8000),
    (16000, 24000), (24000, 16000),
    (8000, 48000), (48000, 8000),
    (16000, 48000), (48000, 16000),
    (24000, 48000), (48000, 24000),
    (22050, 8000),  # arbitrary ratio (libsamplerate backend)
]

# Signal lengths in seconds.  speech is cut from the requested 3.0 s to 1.0 s
# so that the whole directory stays under ~6 MB (see README).
SINE_SECONDS = 0.5
SWEEP_SECONDS = 1.0
IMPULSE_SECONDS = 0.1
SPEECH_SOURCE_SECONDS = 3.0      # taken from demo-call.wav (and resampled)...
SPEECH_SECONDS = 1.0             # ...then truncated to this for storage
NOISE_SECONDS = 0.5

SINE_HZ = 1000.0
AMPLITUDE = 0.5
SWEEP_F0 = 100.0
SWEEP_TOP_FRACTION = 0.425       # of the lower rate of the pair
FADE_SECONDS = 0.010
IMPULSE_INDEX = 100
NOISE_SEED = 7
NOISE_BAND_FRACTION = 0.40       # of the lower rate of the pair
NOISE_TAPS = 4001                # linear-phase FIR, Kaiser window
NOISE_KAISER_BETA = 12.0         # ~120 dB stop-band
NOISE_RMS = 0.1

SIGNALS = ["sine1k", "sweep", "impulse", "speech", "bandlimited_noise"]
IN_BAND = {"sine1k", "sweep", "bandlimited_noise"}   # expected to agree < -60 dB
EDGE_SKIP_SECONDS = 0.050
INBAND_LIMIT_DB = -60.0

STREAM_PAIRS = [(8000, 16000), (16000, 8000), (24000, 8000)]
STREAM_QUALITIES = ["HQ", "VHQ"]
STREAM_CHUNK_SECONDS = 0.020
STREAM_SECONDS = 1.0

FAILURES: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        FAILURES.append(msg)
        print(f"CHECK FAILED: {msg}", file=sys.stderr)


def nsamples(seconds: float, rate: int) -> int:
    return int(round(seconds * rate))


def lower_rate(a: int, b: int) -> int:
    return min(a, b)


# ---------------------------------------------------------------------------
# Signals.  All computed in float64, returned as float32.
# ---------------------------------------------------------------------------

def make_sine(rate: int, seconds: float = SINE_SECONDS) -> np.ndarray:
    n = np.arange(nsamples(seconds, rate), dtype=np.float64)
    return (AMPLITUDE * np.sin(2.0 * np.pi * SINE_HZ * n / rate)).astype(np.float32)


def raised_cosine_fade(x: np.ndarray, rate: int) -> np.ndarray:
    m = nsamples(FADE_SECONDS, rate)
    ramp = 0.5 * (1.0 - np.cos(np.pi * np.arange(m) / m))   # 0 -> ~1
    y = x.copy()
    y[:m] *= ramp
    y[-m:] *= ramp[::-1]
    return y


def sweep_top(lower: int) -> float:
    return SWEEP_TOP_FRACTION * lower


def make_sweep(rate: int, lower: int) -> np.ndarray:
    n = nsamples(SWEEP_SECONDS, rate)
    t = np.arange(n, dtype=np.float64) / rate
    # phi=-90 degrees turns chirp's cosine into a sine starting at phase 0.
    y = scipy.signal.chirp(t, f0=SWEEP_F0, t1=SWEEP_SECONDS, f1=sweep_top(lower),
                           method="logarithmic", phi=-90.0)
    return (AMPLITUDE * raised_cosine_fade(y, rate)).astype(np.float32)


def make_impulse(rate: int) -> np.ndarray:
    x = np.zeros(nsamples(IMPULSE_SECONDS, rate), dtype=np.float32)
    x[IMPULSE_INDEX] = 1.0
    return x


_speech_cache: dict[int, np.ndarray] = {}


def read_speech_8k() -> np.ndarray:
    with wave.open(SPEECH_WAV, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 8000
        frames = w.readframes(nsamples(SPEECH_SOURCE_SECONDS, 8000))
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    return (pcm / 32768.0).astype(np.float32)


def make_speech(rate: int) -> np.ndarray:
    if rate not in _speech_cache:
        x8 = read_speech_8k()
        x = x8 if rate == 8000 else soxr.resample(x8, 8000, rate, quality="VHQ")
        _speech_cache[rate] = np.ascontiguousarray(x[: nsamples(SPEECH_SECONDS, rate)],
                                                   dtype=np.float32)
    return _speech_cache[rate]


def make_noise(rate: int, lower: int) -> np.ndarray:
    n = nsamples(NOISE_SECONDS, rate)
    rng = np.random.default_rng(NOISE_SEED)          # fresh generator per file
    white = rng.standard_normal(n + NOISE_TAPS - 1)
    h = scipy.signal.firwin(NOISE_TAPS, NOISE_BAND_FRACTION * lower,
                            window=("kaiser", NOISE_KAISER_BETA), fs=rate)
    # Symmetric (linear-phase) FIR; 'valid' keeps only fully-settled output,
    # output j is centred on white[j + (taps-1)/2], i.e. zero-phase filtering
    # of the white sequence followed by cropping (no edge transients).
    y = np.convolve(white, h, mode="valid")
    assert len(y) == n
    y *= NOISE_RMS / np.sqrt(np.mean(y * y))
    return y.astype(np.float32)


def input_name(signal: str, rate: int, lower: int) -> str:
    if signal in ("sweep", "bandlimited_noise"):
        return f"{signal}_{rate}_bw{lower}.in.f32"
    return f"{signal}_{rate}.in.f32"


def make_signal(signal: str, rate: int, lower: int) -> np.ndarray:
    if signal == "sine1k":
        return make_sine(rate)
    if signal == "sweep":
        return make_sweep(rate, lower)
    if signal == "impulse":
        return make_impulse(rate)
    if signal == "speech":
        return make_speech(rate)
    if signal == "bandlimited_noise":
        return make_noise(rate, lower)
    raise ValueError(signal)


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

def db(ratio: float) -> float:
    return -math.inf if ratio == 0 else 20.0 * math.log10(ratio)


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def compare(ref: np.ndarray, other: np.ndarray, start: int, stop: int) -> float:
    """Error of `other` against `ref` over [start, stop), in dB re RMS of ref."""
    a = ref[start:stop].astype(np.float64)
    b = other[start:stop].astype(np.float64)
    return db(rms(a - b) / rms(a))


def sine_delay_samples(y: np.ndarray, rate: int, start: int, stop: int) -> float:
    """Least-squares fit of y[k] = A sin(w (k/rate - d)); returns d*rate.

    0 means output sample k is aligned with time k/rate; positive = late."""
    k = np.arange(start, stop, dtype=np.float64)
    w = 2.0 * np.pi * SINE_HZ / rate
    basis = np.stack([np.sin(w * k), np.cos(w * k)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, y[start:stop].astype(np.float64), rcond=None)
    return -math.atan2(b, a) / w


def peak_position(y: np.ndarray) -> float:
    """Sub-sample peak: parabolic fit around the largest |y|."""
    i = int(np.argmax(np.abs(y)))
    if 0 < i < len(y) - 1:
        ym, y0, yp = (float(v) for v in y[i - 1:i + 2])
        den = ym - 2 * y0 + yp
        if den != 0:
            return i + 0.5 * (ym - yp) / den
    return float(i)


def best_integer_lag(ref: np.ndarray, other: np.ndarray, start: int, stop: int,
                     max_lag: int = 4) -> tuple[int, float]:
    best = (0, compare(ref, other, start, stop))
    for lag in range(-max_lag, max_lag + 1):
        if lag == 0:
            continue
        o = np.zeros_like(other)
        if lag > 0:
            o[lag:] = other[:-lag]
        else:
            o[:lag] = other[-lag:]
        e = compare(ref, o, start, stop)
        if e < best[1]:
            best = (lag, e)
    return best


def src_resample(x: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    return samplerate.resample(x, out_rate / in_rate, "sinc_best")


def soxr_resample(x: np.ndarray, in_rate: int, out_rate: int, quality: str = "VHQ") -> np.ndarray:
    return soxr.resample(x, in_rate, out_rate, quality=quality)


# ---------------------------------------------------------------------------
# Convention experiments
# ---------------------------------------------------------------------------

def length_conventions() -> dict:
    res = {}
    for (i, o) in PAIRS:
        soxr_rule = {"round_half_up": 0, "other": 0}
        src_rule = {"floor": 0, "other": 0}
        for n in range(400, 700):
            x = np.zeros(n, dtype=np.float32)
            x[n // 2] = 1.0
            ls = len(soxr_resample(x, i, o))
            lsrc = len(src_resample(x, i, o))
            soxr_rule["round_half_up" if ls == (2 * n * o + i) // (2 * i) else "other"] += 1
            src_rule["floor" if lsrc == (n * o) // i else "other"] += 1
        res[f"{i}->{o}"] = {"soxr": soxr_rule, "libsamplerate": src_rule}
        check(soxr_rule["other"] == 0, f"soxr length rule round(N*out/in) broken for {i}->{o}")
    return res


def alignment_experiments() -> dict:
    res = {}
    for (i, o) in PAIRS:
        entry = {}
        # (1) the stored impulse: where does the peak land?
        x = make_impulse(i)
        ys, yl = soxr_resample(x, i, o), src_resample(x, i, o)
        expected = IMPULSE_INDEX * o / i
        entry["impulse_expected_peak"] = expected
        entry["impulse_soxr_argmax"] = int(np.argmax(ys))
        entry["impulse_soxr_peak_parabolic"] = round(peak_position(ys), 4)
        entry["impulse_src_argmax"] = int(np.argmax(yl))
        entry["impulse_src_peak_parabolic"] = round(peak_position(yl), 4)
        # (2) a 1 kHz sine: least-squares phase -> delay of output vs k*in/out
        s = make_sine(i, 1.0)
        ys, yl = soxr_resample(s, i, o), src_resample(s, i, o)
        a, b = nsamples(0.1, o), nsamples(0.9, o)
        entry["sine_delay_soxr_out_samples"] = round(sine_delay_samples(ys, o, a, b), 6)
        entry["sine_delay_src_out_samples"] = round(sine_delay_samples(yl, o, a, b), 6)
        # (3) where does output start / end?  Energy of the first and last
        # output samples for a full-scale-from-t=0 sine (edge behaviour).
        res[f"{i}->{o}"] = entry
        check(abs(entry["impulse_soxr_argmax"] - expected) <= 0.5,
              f"soxr impulse peak {entry['impulse_soxr_argmax']} far from {expected} ({i}->{o})")
        check(abs(entry["sine_delay_soxr_out_samples"]) < 0.01,
              f"soxr sine delay {entry['sine_delay_soxr_out_samples']} ({i}->{o})")
    return res


def streaming_latency() -> dict:
    res = {}
    for (i, o) in STREAM_PAIRS:
        for q in STREAM_QUALITIES:
            x = make_sine(i, STREAM_SECONDS)
            chunk = nsamples(STREAM_CHUNK_SECONDS, i)
            out_per_chunk = STREAM_CHUNK_SECONDS * o
            rs = soxr.ResampleStream(i, o, 1, dtype="float32", quality=q)
            got, withheld, pieces = 0, [], []
            nchunks = len(x) // chunk
            for c in range(nchunks):
                y = rs.resample_chunk(x[c * chunk:(c + 1) * chunk], last=False)
                pieces.append(y)
                got += len(y)
                withheld.append((c + 1) * out_per_chunk - got)
            tail = rs.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            pieces.append(tail)
            streamed = np.concatenate(pieces)
            oneshot = soxr_resample(x, i, o, quality=q)
            steady = withheld[nchunks // 2:]
            n_cmp = min(len(streamed), len(oneshot))
            entry = {
                "quality": q,
                "chunk_in_samples": chunk,
                "chunks": nchunks,
                "first_chunk_outputs": int(round(out_per_chunk - withheld[0])),
                "withheld_after_first_chunk_samples": withheld[0],
                "withheld_after_first_chunk_ms": 1000.0 * withheld[0] / o,
                "withheld_steady_min_samples": min(steady),
                "withheld_steady_max_samples": max(steady),
                "withheld_steady_min_ms": 1000.0 * min(steady) / o,
                "withheld_steady_max_ms": 1000.0 * max(steady) / o,
                "withheld_sequence_samples": withheld[:12],
                "flush_outputs": len(tail),
                "total_streamed": len(streamed),
                "total_oneshot": len(oneshot),
                "streamed_vs_oneshot_max_abs_diff": float(np.max(np.abs(
                    streamed[:n_cmp].astype(np.float64) - oneshot[:n_cmp]))),
            }
            res[f"{i}->{o} {q}"] = entry
    return res


# ---------------------------------------------------------------------------

def versions() -> dict:
    return {
        "python": sys.version.split()[0],
        "soxr": soxr.__version__,
        "libsoxr": getattr(soxr, "__libsoxr_version__", "?"),
        "samplerate": samplerate.__version__,
        "libsamplerate": getattr(samplerate, "__libsamplerate_version__", "?"),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def write_f32(name: str, x: np.ndarray) -> None:
    data = np.ascontiguousarray(x, dtype="<f4").tobytes()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main() -> int:
    ver = versions()
    for k, v in PINNED.items():
        if ver[k] != v:
            print(f"WARNING: {k} {ver[k]} != pinned {v}; outputs may differ from SHA256SUMS",
                  file=sys.stderr)

    # Remove stale binaries so SHA256SUMS lists exactly what this run wrote.
    for fn in os.listdir(HERE):
        if fn.endswith(".f32"):
            os.remove(os.path.join(HERE, fn))

    inputs: dict[str, dict] = {}
    entries = []
    for (i, o) in PAIRS:
        lower = lower_rate(i, o)
        for sig in SIGNALS:
            in_file = input_name(sig, i, lower)
            x = make_signal(sig, i, lower)
            if in_file not in inputs:
                write_f32(in_file, x)
                inputs[in_file] = {"file": in_file, "signal": sig, "rate": i,
                                   "samples": len(x), "seconds": len(x) / i}
            ys = soxr_resample(x, i, o)
            yl = src_resample(x, i, o)
            ys64 = soxr.resample(x.astype(np.float64), i, o, quality="VHQ")
            out_file = f"{sig}_{i}_{o}.soxr.f32"
            write_f32(out_file, ys)

            n = min(len(ys), len(yl))
            if sig == "impulse":      # too short to skip 50 ms at both ends
                a, b, region = 0, n, "whole output"
            else:
                skip = nsamples(EDGE_SKIP_SECONDS, o)
                a, b, region = skip, n - skip, f"[{skip}, {n - skip})"
            err = compare(ys, yl, a, b)
            lag, lag_err = best_integer_lag(ys, yl, a, b)
            e = {
                "signal": sig,
                "in_rate": i,
                "out_rate": o,
                "input_file": in_file,
                "output_file": out_file,
                "input_samples": len(x),
                "output_samples": len(ys),
                "input_seconds": len(x) / i,
                "libsamplerate_output_samples": len(yl),
                "compare_region_out_samples": region,
                "soxr_vs_libsamplerate_db": round(err, 2),
                "best_integer_lag": lag,
                "best_integer_lag_db": round(lag_err, 2),
                "soxr_f32_vs_f64_io_db": round(compare(ys64, ys, a, b), 2),
                "output_rms": round(rms(ys[a:b]), 6),
            }
            if sig == "sweep":
                e["sweep_top_hz"] = sweep_top(lower)
            if sig == "bandlimited_noise":
                e["noise_band_hz"] = NOISE_BAND_FRACTION * lower
            if sig == "sine1k":
                e["sine_delay_soxr_vs_src_out_samples"] = round(
                    sine_delay_samples(yl, o, a, b) - sine_delay_samples(ys, o, a, b), 6)
            entries.append(e)
            check(len(ys) == (2 * len(x) * o + i) // (2 * i), f"soxr length {out_file}")
            if sig in IN_BAND:
                check(err < INBAND_LIMIT_DB,
                      f"{sig} {i}->{o}: soxr vs libsamplerate {err:.1f} dB >= {INBAND_LIMIT_DB}")

    analysis = {
        "length_conventions": length_conventions(),
        "alignment": alignment_experiments(),
        "streaming_latency_20ms": streaming_latency(),
    }

    # SHA256SUMS
    bins = sorted(fn for fn in os.listdir(HERE) if fn.endswith(".f32"))
    total = 0
    lines = []
    for fn in bins:
        with open(os.path.join(HERE, fn), "rb") as f:
            data = f.read()
        total += len(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {fn}\n")
    with open(os.path.join(HERE, "SHA256SUMS"), "w") as f:
        f.writelines(lines)

    manifest = {
        "format": "raw little-endian IEEE-754 float32, mono, no header; "
                  "sample count = file size / 4",
        "generator": "TestVectors/resampling/generate.py",
        "versions": ver,
        "reference": "soxr.resample(x, in_rate, out_rate, quality='VHQ') on float32 input",
        "cross_check": "samplerate.resample(x, out_rate/in_rate, 'sinc_best'); error = "
                       "20*log10(rms(soxr - src) / rms(soxr)) over the compare region "
                       "(first and last 50 ms of output skipped; impulse: whole output)",
        "input_sharing": "input files depend only on (signal, source rate) and, for sweep and "
                         "bandlimited_noise, on the lower rate of the pair (suffix _bw<lower>); "
                         "pairs with equal keys share one .in.f32 file",
        "signals": {
            "sine1k": f"{AMPLITUDE} * sin(2*pi*{SINE_HZ}*n/rate), {SINE_SECONDS} s",
            "sweep": f"{AMPLITUDE} * logarithmic chirp (scipy.signal.chirp, phi=-90) from "
                     f"{SWEEP_F0} Hz to {SWEEP_TOP_FRACTION} x lower rate over {SWEEP_SECONDS} s, "
                     f"{FADE_SECONDS * 1000:g} ms raised-cosine fade in/out",
            "impulse": f"1.0 at index {IMPULSE_INDEX} of {IMPULSE_SECONDS} s of zeros",
            "speech": f"demo-call.wav (8 kHz PCM16 / 32768), first {SPEECH_SOURCE_SECONDS} s, "
                      f"resampled from 8000 Hz to the source rate with soxr VHQ (float32) where "
                      f"the source rate is not 8000, then truncated to the first "
                      f"{SPEECH_SECONDS} s to fit the size budget",
            "bandlimited_noise": f"default_rng({NOISE_SEED}).standard_normal, {NOISE_TAPS}-tap "
                                 f"linear-phase FIR (firwin, Kaiser beta {NOISE_KAISER_BETA}) "
                                 f"cutoff {NOISE_BAND_FRACTION} x lower rate, applied zero-phase "
                                 f"('valid' convolution, settled part only), {NOISE_SECONDS} s, "
                                 f"scaled to RMS {NOISE_RMS}",
        },
        "total_binary_bytes": total,
        "inputs": sorted(inputs.values(), key=lambda d: d["file"]),
        "vectors": entries,
        "analysis": analysis,
    }
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    # Human-readable summary
    print(f"binary files: {len(bins)}, {total} bytes")
    print("\n| pair | " + " | ".join(SIGNALS) + " |")
    print("|---|" + "---:|" * len(SIGNALS))
    for (i, o) in PAIRS:
        row = [f"{e['soxr_vs_libsamplerate_db']:.1f}" for e in entries
               if e["in_rate"] == i and e["out_rate"] == o]
        print(f"| {i} -> {o} | " + " | ".join(row) + " |")
    print("\nalignment:")
    for k, v in analysis["alignment"].items():
        print(" ", k, v)
    print("\nlengths:", json.dumps(analysis["length_conventions"]))
    print("\nstreaming:")
    for k, v in analysis["streaming_latency_20ms"].items():
        print(" ", k, {kk: vv for kk, vv in v.items()})
    print("\nbest integer lag != 0 or f32/f64 notes:")
    for e in entries:
        if e["best_integer_lag"] != 0:
            print("  lag", e["signal"], e["in_rate"], e["out_rate"], e["best_integer_lag"],
                  e["best_integer_lag_db"])
    print("  worst soxr f32-vs-f64 I/O:", max(e["soxr_f32_vs_f64_io_db"] for e in entries), "dB")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
