#!/usr/bin/env python3
"""Run the baseline detectors over the VAD corpus, score them, write baselines.json.

  pip install webrtcvad-wheels==2.0.14.post1 onnxruntime==1.32.0
  pip install --no-deps silero-vad==6.2.3       # only for its bundled ONNX model file
  nice -n 10 python3 run_baselines.py            # committed set -> baselines.json
  nice -n 10 python3 run_baselines.py --labels full/labels.json --out full/baselines.json

Detectors
  webrtc-m0 .. webrtc-m3   WebRTC VAD (py-webrtcvad), aggressiveness modes 0-3, 20 ms frames
                           (160 samples at 8 kHz), one Vad object per clip, PCM16 as read.
  silero-0.3/0.5/0.7       Silero VAD v6 ONNX model (silero_vad.onnx from the silero-vad wheel)
                           run natively at 8 kHz in streaming mode: 256-sample (32 ms) windows,
                           32 samples of context from the previous window, recurrent state carried,
                           reset per clip; a window is speech when its probability >= threshold.
  silero-0.5-hyst          Same probabilities, with Silero's own streaming hysteresis: speech starts
                           at p >= 0.5 and ends at p < 0.35.
  always-speech            Reference: every frame is speech (no CPU cost).

CPU time: time.process_time() (user + system CPU of the whole process, all threads) around the
detector loop over every clip (the loop includes slicing frames, int16 -> float conversion and
the per-frame Python call, not reading the WAV files), best of --repeats passes, divided by the
total audio duration. onnxruntime is limited to one intra-op and one inter-op thread, without
spinning. Silero's four variants share one model pass and one CPU figure.

torch is not needed: the silero-vad package's Python code imports torch, so only the .onnx file
inside the wheel is used, through onnxruntime.
"""

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import time
import wave

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402

SR = 8000
WEBRTC_FRAME_MS = 20
SILERO_WINDOW, SILERO_CONTEXT = 256, 32
SILERO_THRESHOLDS = (0.3, 0.5, 0.7)


def read_pcm16(path):
    with wave.open(path, "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SR, 1, 2), path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def silero_model_path():
    spec = importlib.util.find_spec("silero_vad")   # locate without importing (it imports torch)
    if spec is None:
        sys.exit("pip install --no-deps silero-vad==6.2.3 (only its ONNX model is used)")
    return os.path.join(spec.submodule_search_locations[0], "data", "silero_vad.onnx")


# ----------------------------------------------------------------------------- detectors

def run_webrtc(clips, mode):
    import webrtcvad
    step = SR * WEBRTC_FRAME_MS // 1000
    out = {}
    for name, x in clips:
        vad = webrtcvad.Vad(mode)
        n = -(-len(x) // step)
        buf = np.zeros(n * step, np.int16)
        buf[:len(x)] = x
        raw = buf.tobytes()
        nb = step * 2
        out[name] = [vad.is_speech(raw[i * nb:(i + 1) * nb], SR) for i in range(n)]
    return out


class Silero:
    def __init__(self, path):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.sess = ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])
        self.sr = np.array(SR, dtype=np.int64)

    def probabilities(self, x):
        """Streaming: one call per 256-sample window, state and 32-sample context carried."""
        n = -(-len(x) // SILERO_WINDOW)
        audio = np.zeros(SILERO_CONTEXT + n * SILERO_WINDOW, np.float32)
        audio[SILERO_CONTEXT:SILERO_CONTEXT + len(x)] = x.astype(np.float32) / 32768.0
        state = np.zeros((2, 1, 128), np.float32)
        probs = np.empty(n, np.float32)
        run = self.sess.run
        for i in range(n):
            a = i * SILERO_WINDOW
            chunk = audio[a:a + SILERO_CONTEXT + SILERO_WINDOW].reshape(1, -1)
            p, state = run(None, {"input": chunk, "state": state, "sr": self.sr})
            probs[i] = p[0, 0]
        return probs


def run_silero(model, clips):
    return {name: model.probabilities(x) for name, x in clips}


def hysteresis(p, on, off):
    out = np.zeros(len(p), bool)
    active = False
    for i, v in enumerate(p):
        active = v >= on if not active else v >= off
        out[i] = active
    return out


def timed(fn, repeats):
    best = None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        c, w = time.process_time() - c0, time.perf_counter() - w0
        if best is None or c < best[1]:
            best = (result, c, w)
    return best


def frames_to_segments(dec, frame_s):
    segs, start = [], None
    for i, v in enumerate(list(dec) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            segs.append([round(start * frame_s, 4), round(i * frame_s, 4)])
            start = None
    return segs


# ----------------------------------------------------------------------------- main

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Run and score WebRTC VAD and Silero VAD baselines")
    ap.add_argument("--labels", default=os.path.join(here, "labels.json"))
    ap.add_argument("--out", default=os.path.join(here, "baselines.json"))
    ap.add_argument("--detections-dir", help="also write one detections JSON per detector here "
                                             "(the format score.py reads)")
    ap.add_argument("--repeats", type=int, default=3, help="timing passes, best is kept")
    args = ap.parse_args()

    with open(args.labels) as f:
        labels = json.load(f)
    root = os.path.dirname(os.path.abspath(args.labels))
    clips = [(c["file"], read_pcm16(os.path.join(root, c["file"]))) for c in labels["clips"]]
    audio_s = sum(len(x) for _, x in clips) / SR
    print("%d clips, %.1f s of audio" % (len(clips), audio_s))

    detections, cpu = {}, {}
    for mode in range(4):
        name = "webrtc-m%d" % mode
        dec, c, w = timed(lambda: run_webrtc(clips, mode), args.repeats)
        detections[name] = {k: {"frame_ms": WEBRTC_FRAME_MS, "frames": [int(v) for v in d]}
                            for k, d in dec.items()}
        cpu[name] = {"cpu_s": round(c, 4), "wall_s": round(w, 4),
                     "cpu_ms_per_audio_s": round(1000 * c / audio_s, 4)}
        print("%-16s CPU %.4f ms per audio second" % (name, 1000 * c / audio_s))

    model_path = silero_model_path()
    model = Silero(model_path)
    probs, c, w = timed(lambda: run_silero(model, clips), args.repeats)
    silero_cpu = {"cpu_s": round(c, 4), "wall_s": round(w, 4),
                  "cpu_ms_per_audio_s": round(1000 * c / audio_s, 4)}
    print("%-16s CPU %.4f ms per audio second" % ("silero", 1000 * c / audio_s))
    win_ms = 1000 * SILERO_WINDOW / SR
    for thr in SILERO_THRESHOLDS:
        name = "silero-%.1f" % thr
        detections[name] = {k: {"frame_ms": win_ms, "frames": [int(v >= thr) for v in p]}
                            for k, p in probs.items()}
        cpu[name] = silero_cpu
    detections["silero-0.5-hyst"] = {k: {"frame_ms": win_ms, "frames": [int(v) for v in hysteresis(p, 0.5, 0.35)]}
                                     for k, p in probs.items()}
    cpu["silero-0.5-hyst"] = silero_cpu
    detections["always-speech"] = {c["file"]: {"segments": [[0.0, c["duration"]]]} for c in labels["clips"]}
    cpu["always-speech"] = None

    results = {}
    for name, dets in detections.items():
        res = score.score(labels, dets)
        res.pop("per_clip")
        results[name] = res
        score.print_report(name, res)
        if args.detections_dir:
            os.makedirs(args.detections_dir, exist_ok=True)
            step = dets[next(iter(dets))].get("frame_ms")
            with open(os.path.join(args.detections_dir, name + ".json"), "w") as f:
                json.dump({"detector": name, "clips": {
                    k: {"segments": frames_to_segments(v["frames"], step / 1000.0)} if "frames" in v else v
                    for k, v in dets.items()}}, f)

    with open(model_path, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    with open(args.labels, "rb") as f:
        labels_sha = hashlib.sha256(f.read()).hexdigest()
    versions = {}
    for pkg in ("webrtcvad-wheels", "onnxruntime", "silero-vad", "numpy"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    doc = {
        "labels": os.path.relpath(args.labels, os.path.dirname(os.path.abspath(args.out))),
        "labels_sha256": labels_sha,
        "clips": len(clips),
        "audio_seconds": round(audio_s, 3),
        "versions": versions,
        "python": platform.python_version(),
        "machine": "%s, %d CPUs" % (platform.machine(), os.cpu_count()),
        "silero_model": {"file": "silero_vad/data/silero_vad.onnx", "sha256": model_sha,
                         "sample_rate": SR, "window": SILERO_WINDOW, "context": SILERO_CONTEXT},
        "webrtc_frame_ms": WEBRTC_FRAME_MS,
        "cpu_method": "time.process_time() around the detector loop over all clips (WAV reading "
                      "excluded), best of %d passes, divided by audio seconds; onnxruntime 1 "
                      "intra-op and 1 inter-op thread" % args.repeats,
        "cpu": cpu,
        "detectors": results,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print()
    print(score.markdown_table(results))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
