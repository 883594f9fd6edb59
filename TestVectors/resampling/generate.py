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

# Signal lengths in seconds.  speech is cut from the requested 3.0 s to 0.9 s
# (still all of "Hello.", which ends at 0.786 s and is followed by digital
# silence) so that the directory stays under ~6 MB (see README).
SINE_SECONDS = 0.5
SWEEP_SECONDS = 1.0
IMPULSE_SECONDS = 0.1
SPEECH_SOURCE_SECONDS = 3.0      # taken from demo-call.wav (and resampled)...
SPEECH_SECONDS = 0.9             # ...then truncated to this for storage
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
INBAND_METRIC_FRACTION = 0.425   # of the lower rate: "in-band" error metric

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


def energy_centroid(y: np.ndarray) -> float:
    """sum(k*y[k]^2)/sum(y[k]^2): the centre of symmetry of a linear-phase,
    band-limited response, to a small fraction of a sample."""
    e = np.asarray(y, dtype=np.float64) ** 2
    return float(np.sum(np.arange(len(e)) * e) / np.sum(e))


def inband_error(ref: np.ndarray, other: np.ndarray, start: int, stop: int,
                 rate: int, cutoff_hz: float) -> float:
    """Like compare(), but the difference is first low-passed (zero-phase,
    1001-tap Kaiser FIR) at cutoff_hz; denominator is the full RMS of ref."""
    h = scipy.signal.firwin(1001, cutoff_hz, window=("kaiser", 12.0), fs=rate)
    d = scipy.signal.fftconvolve(ref.astype(np.float64) - other.astype(np.float64), h, "same")
    return db(rms(d[start:stop]) / rms(ref[start:stop]))


def analytic_output(signal: str, in_rate: int, out_rate: int, n_out: int) -> np.ndarray | None:
    """Ideal band-limited resampling of sine1k / sweep (valid away from the
    fades and edges): the generating formula evaluated at t = k/out_rate."""
    t = np.arange(n_out, dtype=np.float64) / out_rate
    if signal == "sine1k":
        return AMPLITUDE * np.sin(2.0 * np.pi * SINE_HZ * t)
    if signal == "sweep":
        return AMPLITUDE * scipy.signal.chirp(
            t, f0=SWEEP_F0, t1=SWEEP_SECONDS, f1=sweep_top(lower_rate(in_rate, out_rate)),
            method="logarithmic", phi=-90.0)
    return None


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
        entry["impulse_src_argmax"] = int(np.argmax(yl))
        # (1b) an impulse near the middle of 1 s of zeros, so no tail is cut
        # off (index chosen so the expected output position is fractional for
        # the non-integer ratios): centre of symmetry of the response.
        n = i
        pos = n // 2 + 1
        x = np.zeros(n, dtype=np.float32)
        x[pos] = 1.0
        ys, yl = soxr_resample(x, i, o), src_resample(x, i, o)
        entry["centered_impulse_index"] = pos
        entry["centered_impulse_expected"] = round(pos * o / i, 4)
        entry["centered_impulse_soxr_centroid"] = round(energy_centroid(ys), 4)
        entry["centered_impulse_src_centroid"] = round(energy_centroid(yl), 4)
        # (2) a 1 kHz sine: least-squares phase -> delay of output vs k*in/out
        s = make_sine(i, 1.0)
        ys, yl = soxr_resample(s, i, o), src_resample(s, i, o)
        a, b = nsamples(0.1, o), nsamples(0.9, o)
        entry["sine_delay_soxr_out_samples"] = round(sine_delay_samples(ys, o, a, b), 6) + 0.0
        entry["sine_delay_src_out_samples"] = round(sine_delay_samples(yl, o, a, b), 6) + 0.0
        res[f"{i}->{o}"] = entry
        check(abs(entry["impulse_soxr_argmax"] - expected) <= 0.5,
              f"soxr impulse peak {entry['impulse_soxr_argmax']} far from {expected} ({i}->{o})")
        check(abs(entry["centered_impulse_soxr_centroid"] - entry["centered_impulse_expected"]) < 0.01,
              f"soxr centred impulse centroid off ({i}->{o})")
        check(abs(entry["sine_delay_soxr_out_samples"]) < 0.01,
              f"soxr sine delay {entry['sine_delay_soxr_out_samples']} ({i}->{o})")
    return res


TONE_FRACTIONS = [0.125, 0.25, 0.375, 0.425, 0.45]   # of the lower rate


def tone_gains() -> dict:
    """Pass-band gain (dB) of each resampler: least-squares amplitude of a
    1 s, 0.5-amplitude tone at the output, central 80 %, float64 input."""
    res = {}
    for (i, o) in PAIRS:
        row = {}
        for frac in TONE_FRACTIONS:
            f = frac * lower_rate(i, o)
            n = np.arange(i, dtype=np.float64)
            x = AMPLITUDE * np.sin(2.0 * np.pi * f * n / i)
            out = {"soxr": soxr.resample(x, i, o, quality="VHQ"),
                   "libsamplerate": src_resample(x.astype(np.float32), i, o)}
            gains = {}
            for name, y in out.items():
                a, b = nsamples(0.1, o), nsamples(0.9, o)
                k = np.arange(a, b, dtype=np.float64)
                basis = np.stack([np.sin(2 * np.pi * f * k / o), np.cos(2 * np.pi * f * k / o)], 1)
                (sa, ca), *_ = np.linalg.lstsq(basis, y[a:b].astype(np.float64), rcond=None)
                gains[name] = float(f"{db(math.hypot(sa, ca) / AMPLITUDE):.3g}")
            row[f"{f:g} Hz"] = gains
        res[f"{i}->{o}"] = row
    return res


def streaming_latency() -> dict:
    res = {}
    for (i, o) in STREAM_PAIRS:
        for q in STREAM_QUALITIES:
            x = make_sine(i, STREAM_SECONDS)
            chunk = nsamples(STREAM_CHUNK_SECONDS, i)
            out_per_chunk = STREAM_CHUNK_SECONDS * o
            rs = soxr.ResampleStream(i, o, 1, dtype="float32", quality=q)
            got, withheld, pieces, burst_chunks = 0, [], [], []
            nchunks = len(x) // chunk
            for c in range(nchunks):
                y = rs.resample_chunk(x[c * chunk:(c + 1) * chunk], last=False)
                pieces.append(y)
                if len(y):
                    burst_chunks.append(c + 1)
                got += len(y)
                withheld.append((c + 1) * out_per_chunk - got)
            tail = rs.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            pieces.append(tail)
            streamed = np.concatenate(pieces)
            oneshot = soxr_resample(x, i, o, quality=q)
            steady = withheld[nchunks // 2:]
            # Same experiment with libsamplerate sinc_best (what VoicePipe links).
            lsr = samplerate.Resampler("sinc_best", 1)
            lgot, lwithheld = 0, []
            for c in range(nchunks):
                y = lsr.process(x[c * chunk:(c + 1) * chunk], o / i, end_of_input=False)
                lgot += len(y)
                lwithheld.append((c + 1) * out_per_chunk - lgot)
            lsteady = lwithheld[nchunks // 2:]
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
                "withheld_steady_mean_ms": 1000.0 * float(np.mean(steady)) / o,
                "withheld_sequence_samples": withheld[:12],
                "chunks_with_output": burst_chunks,
                "output_block_sizes": sorted({len(p) for p in pieces[:nchunks] if len(p)}),
                "libsamplerate_sinc_best_withheld_after_first_chunk_ms": 1000.0 * lwithheld[0] / o,
                "libsamplerate_sinc_best_withheld_steady_min_ms": 1000.0 * min(lsteady) / o,
                "libsamplerate_sinc_best_withheld_steady_max_ms": 1000.0 * max(lsteady) / o,
                "libsamplerate_sinc_best_withheld_sequence_samples": lwithheld[:12],
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
                "soxr_vs_libsamplerate_inband_db": round(inband_error(
                    ys, yl, a, b, o, INBAND_METRIC_FRACTION * lower), 2),
                "soxr_f32_vs_f64_io_db": round(compare(ys64, ys, a, b), 2),
                "output_rms": round(rms(ys[a:b]), 6),
            }
            ideal = analytic_output(sig, i, o, n)
            if ideal is not None:
                e["soxr_vs_analytic_db"] = round(compare(ideal, ys, a, b), 2)
                e["libsamplerate_vs_analytic_db"] = round(compare(ideal, yl, a, b), 2)
            if sig == "sweep":
                e["sweep_top_hz"] = sweep_top(lower)
            if sig == "bandlimited_noise":
                e["noise_band_hz"] = NOISE_BAND_FRACTION * lower
            if sig == "sine1k":
                e["sine_delay_soxr_vs_src_out_samples"] = round(
                    sine_delay_samples(yl, o, a, b) - sine_delay_samples(ys, o, a, b), 6) + 0.0
            entries.append(e)
            check(len(ys) == (2 * len(x) * o + i) // (2 * i), f"soxr length {out_file}")
            if sig in IN_BAND:
                check(err < INBAND_LIMIT_DB,
                      f"{sig} {i}->{o}: soxr vs libsamplerate {err:.1f} dB >= {INBAND_LIMIT_DB}")

    analysis = {
        "length_conventions": length_conventions(),
        "alignment": alignment_experiments(),
        "tone_gain_db": tone_gains(),
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

    # Human-readable summary (markdown; the README's tables are pasted from it)
    print(f"binary files: {len(bins)}, {total} bytes")

    def table(title: str, key: str, signals: list[str]) -> None:
        print(f"\n{title}\n\n| pair | " + " | ".join(signals) + " |")
        print("|---|" + "---:|" * len(signals))
        for (i, o) in PAIRS:
            row = []
            for sig in signals:
                e = next(e for e in entries
                         if e["in_rate"] == i and e["out_rate"] == o and e["signal"] == sig)
                row.append(f"{e[key]:.1f}")
            print(f"| {i} -> {o} | " + " | ".join(row) + " |")

    table("soxr VHQ vs libsamplerate sinc_best, dB re RMS (full band)",
          "soxr_vs_libsamplerate_db", SIGNALS)
    table(f"same, difference low-passed at {INBAND_METRIC_FRACTION} x lower rate",
          "soxr_vs_libsamplerate_inband_db", SIGNALS)
    print("\nerror vs the analytic ideal output, dB re RMS\n")
    print("| pair | sine1k soxr | sine1k lsr | sweep soxr | sweep lsr |")
    print("|---|---:|---:|---:|---:|")
    for (i, o) in PAIRS:
        es = {e["signal"]: e for e in entries if e["in_rate"] == i and e["out_rate"] == o}
        print(f"| {i} -> {o} | {es['sine1k']['soxr_vs_analytic_db']:.1f} | "
              f"{es['sine1k']['libsamplerate_vs_analytic_db']:.1f} | "
              f"{es['sweep']['soxr_vs_analytic_db']:.1f} | "
              f"{es['sweep']['libsamplerate_vs_analytic_db']:.1f} |")
    print("\npass-band gain in dB (soxr / libsamplerate), float64 tone input\n")
    print("| pair | " + " | ".join(f"{f} x lower" for f in TONE_FRACTIONS) + " |")
    print("|---|" + "---|" * len(TONE_FRACTIONS))
    for k, row in analysis["tone_gain_db"].items():
        print(f"| {k} | " + " | ".join(f"{v['soxr']:.3g} / {v['libsamplerate']:.3g}"
                                      for v in row.values()) + " |")
    print("\nalignment:")
    for k, v in analysis["alignment"].items():
        print(" ", k, v)
    print("\nlengths:", json.dumps(analysis["length_conventions"]))
    print("\nstreaming (20 ms chunks of the sine; withheld = expected - received)\n")
    print("| pair | quality | outputs after 1st chunk | withheld after 1st chunk | "
          "steady min / mean / max | flush | libsamplerate sinc_best steady |")
    print("|---|---|---:|---:|---|---:|---:|")
    for k, v in analysis["streaming_latency_20ms"].items():
        pair = k.split()[0]
        print(f"| {pair} | {v['quality']} | {v['first_chunk_outputs']} | "
              f"{v['withheld_after_first_chunk_samples']:g} smp = "
              f"{v['withheld_after_first_chunk_ms']:g} ms | "
              f"{v['withheld_steady_min_ms']:g} / {v['withheld_steady_mean_ms']:.1f} / "
              f"{v['withheld_steady_max_ms']:g} ms | {v['flush_outputs']} | "
              f"{v['libsamplerate_sinc_best_withheld_steady_min_ms']:g}"
              f"-{v['libsamplerate_sinc_best_withheld_steady_max_ms']:g} ms |")
        print(f"    soxr sequence: {v['withheld_sequence_samples']}")
        print(f"    soxr output only after chunks {v['chunks_with_output']}, "
              f"block sizes {v['output_block_sizes']}")
    print("\n  worst soxr f32-vs-f64 I/O:", max(e["soxr_f32_vs_f64_io_db"] for e in entries), "dB")
    print("  nonzero best integer lags:",
          [(e["signal"], e["in_rate"], e["out_rate"], e["best_integer_lag"])
           for e in entries if e["best_integer_lag"] != 0])
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
