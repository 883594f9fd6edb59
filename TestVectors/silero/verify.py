#!/usr/bin/env python3
"""Check reference.py (NumPy, weights from the .f32 files) against onnxruntime on the
official ONNX model, check the committed golden vectors, and time both.

  python3 verify.py            # prints a report and writes verification.json

Cases: demo-call.wav at 8 kHz, 10 s white noise at 8 kHz, and at 16 kHz the upsampled
speech golden input plus 10 s white noise. Streaming is chunk by chunk from zero state
and zero context. 'teacher-forced' feeds onnxruntime's own state and context into a
single reference call at every chunk, which measures the per-call error without any
accumulation through the LSTM state.

Timing: time.process_time() over the whole file, chunk by chunk, single thread
(onnxruntime intra/inter-op threads = 1); best of --repeats runs.

Needs: numpy, onnx, onnxruntime.
"""

import argparse
import json
import os
import platform
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # single-threaded BLAS for a fair CPU-time comparison

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reference  # noqa: E402
import make_golden as mg  # noqa: E402


def teacher_forced(ortv, vad, audio):
    ortv.reset()
    n = -(-audio.size // ortv.chunk)
    a = np.zeros(n * ortv.chunk, dtype=np.float32)
    a[:audio.size] = audio
    dp, ds = 0.0, 0.0
    for i in range(n):
        st, ctx = ortv.state.copy(), ortv.context.copy()
        chunk = a[i * ortv.chunk:(i + 1) * ortv.chunk]
        p = ortv(chunk)
        pr, h, c = vad.forward(np.concatenate([ctx[0], chunk]), st[0, 0].astype(vad.dtype),
                               st[1, 0].astype(vad.dtype))
        dp = max(dp, abs(float(pr) - p))
        ds = max(ds, float(np.abs(h - ortv.state[0, 0]).max()), float(np.abs(c - ortv.state[1, 0]).max()))
    return dp, ds


def timed(fn, audio, repeats):
    best, out = None, None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn(audio)
        t = time.process_time() - t0
        best = t if best is None else min(best, t)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    import onnxruntime as ort

    path = mg.onnx_model_path()
    _, demo = reference.read_wav_pcm16(mg.DEMO_WAV)
    cases = [
        ("demo-call.wav @ 8 kHz", 8000, demo),
        ("white noise 10 s @ 8 kHz (xorshift32 seed 12345, gain 0.5)", 8000, mg.white_noise(10, 8000)),
        ("speech_16k.in.f32 @ 16 kHz", 16000, mg.speech_16k()),
        ("white noise 10 s @ 16 kHz (xorshift32 seed 12345, gain 0.5)", 16000, mg.white_noise(10, 16000)),
    ]
    results = {"onnxruntime": ort.__version__, "numpy": np.__version__, "python": platform.python_version(),
               "machine": platform.machine(), "cases": [], "golden": {}}
    ok = True
    for name, rate, audio in cases:
        ortv = mg.OrtStream(rate, path)
        v32 = reference.SileroVAD(rate, np.float32)
        v64 = reference.SileroVAD(rate, np.float64)
        t_ort, p_ort = timed(ortv.probabilities, audio, args.repeats)
        t_ref, p32 = timed(v32.probabilities, audio, args.repeats)
        p64 = v64.probabilities(audio)
        tf32 = teacher_forced(ortv, v32, audio)
        tf64 = teacher_forced(ortv, v64, audio)
        secs = audio.size / rate
        r = {"case": name, "rate": rate, "samples": int(audio.size), "chunks": int(p_ort.size),
             "max_abs_diff_prob_float32_ref": float(np.abs(p32 - p_ort).max()),
             "max_abs_diff_prob_float64_ref": float(np.abs(p64 - p_ort).max()),
             "mean_abs_diff_prob_float32_ref": float(np.abs(p32 - p_ort).mean()),
             "teacher_forced_float32": {"prob": tf32[0], "state": tf32[1]},
             "teacher_forced_float64": {"prob": tf64[0], "state": tf64[1]},
             "prob_range": [float(p_ort.min()), float(p_ort.max())],
             "chunks_above_0.5": int((p_ort > 0.5).sum()),
             "cpu_s_per_audio_s": {"onnxruntime": t_ort / secs, "numpy_float32_ref": t_ref / secs},
             "cpu_us_per_chunk": {"onnxruntime": 1e6 * t_ort / p_ort.size,
                                  "numpy_float32_ref": 1e6 * t_ref / p_ort.size}}
        ok &= r["max_abs_diff_prob_float32_ref"] < 1e-5
        results["cases"].append(r)
        print("%-62s chunks %4d  maxdiff f32 %.2e f64 %.2e  (teacher-forced prob %.2e, state %.2e)  "
              "CPU s/audio s: ort %.5f numpy %.5f" %
              (name, r["chunks"], r["max_abs_diff_prob_float32_ref"], r["max_abs_diff_prob_float64_ref"],
               tf32[0], tf32[1], t_ort / secs, t_ref / secs))

    # golden files: regenerate in memory and compare with what is on disk
    g8, g16 = mg.OrtStream(8000, path), mg.OrtStream(16000, path)
    checks = [("demo-call_8k.probs.f32", g8, demo, None),
              ("noise_8k.probs.f32", g8, mg.noise_clip(8000), "noise_8k.in.f32"),
              ("speech_16k.probs.f32", g16, mg.speech_16k(), "speech_16k.in.f32"),
              ("noise_16k.probs.f32", g16, mg.noise_clip(16000), "noise_16k.in.f32")]
    for fname, o, audio, infile in checks:
        fp = os.path.join(HERE, fname)
        if not os.path.exists(fp):
            print("missing", fname)
            ok = False
            continue
        gold = np.fromfile(fp, dtype="<f4")
        if infile:
            stored = np.fromfile(os.path.join(HERE, infile), dtype="<f4")
            assert np.array_equal(stored, audio), infile + " differs from its generator"
            audio = stored
        vad = reference.SileroVAD(o.rate, np.float32)
        d_ort = float(np.abs(o.probabilities(audio) - gold).max())
        d_ref = float(np.abs(vad.probabilities(audio) - gold).max())
        results["golden"][fname] = {"ort_rerun_max_diff": d_ort, "numpy_ref_max_diff": d_ref}
        ok &= d_ref < 1e-5
        print("golden %-24s onnxruntime re-run maxdiff %.2e, numpy reference maxdiff %.2e" % (fname, d_ort, d_ref))

    results["pass"] = bool(ok)
    if not args.no_write:
        with open(os.path.join(HERE, "verification.json"), "w") as f:
            json.dump(results, f, indent=1)
            f.write("\n")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
