#!/usr/bin/env python3
"""Write golden vectors for the Swift port of Silero VAD, computed by onnxruntime on the
official ONNX model (single thread), streamed chunk by chunk from a zero state and zero
context, exactly as silero-vad's OnnxWrapper does (last partial chunk zero-padded).

Outputs (all headerless little-endian float32):
  demo-call_8k.probs.f32        one probability per 256-sample chunk of ../speech/demo-call.wav
  noise_8k.in.f32 / .probs.f32  2.048 s deterministic noise clip at 8 kHz and its probabilities
  speech_16k.in.f32 / .probs.f32   first 4.096 s of demo-call.wav upsampled x2 (see README)
  noise_16k.in.f32 / .probs.f32    2.048 s deterministic noise clip at 16 kHz
  debug_8k.f32 + debug_8k.json  intermediate tensors of single model calls, from reference.py
  golden.json                   what each file is, lengths, sha256, onnxruntime version

Needs: numpy, onnx, onnxruntime (and the weights files for the debug vectors).
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_WAV = os.path.normpath(os.path.join(HERE, "..", "speech", "demo-call.wav"))
sys.path.insert(0, HERE)

import reference  # noqa: E402


# ---------------------------------------------------------------------------------------
# Deterministic test signals (re-creatable in Swift without any library)
# ---------------------------------------------------------------------------------------
def xorshift32_uniform(n, seed):
    """n floats uniform in [-1, 1): xorshift32 (13, 17, 5) on a uint32 state starting at
    `seed` (non-zero); each step's new state s gives ((s >> 8) / 2^24) * 2 - 1, computed
    exactly in float64 then rounded to float32 (the value is exact in float32)."""
    s = seed & 0xFFFFFFFF
    assert s != 0
    out = np.empty(n, dtype=np.float64)
    for k in range(n):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out[k] = (s >> 8) / 16777216.0 * 2.0 - 1.0
    return out


def noise_clip(rate):
    """2.048 s: four equal segments of xorshift32 white noise (seed 0x5EED0000 + rate)
    multiplied by gains 0.5, 0.0 (digital silence), 0.02, 1.0; float32."""
    n = int(2.048 * rate)
    u = xorshift32_uniform(n, 0x5EED0000 + rate)
    gains = np.repeat([0.5, 0.0, 0.02, 1.0], n // 4)
    return (u * gains).astype(np.float32)


def white_noise(seconds, rate, seed=12345, gain=0.5):
    return (xorshift32_uniform(int(seconds * rate), seed) * gain).astype(np.float32)


def upsample2(x, taps=127):
    """x2 upsampling: zero-stuffing, then a linear-phase FIR (Kaiser beta 8 windowed sinc,
    cutoff 3800 Hz at 16 kHz, gain 2), 'same' alignment (delay removed), float64 -> float32."""
    m = np.arange(taps) - (taps - 1) / 2
    fc = 3800.0 / 16000.0
    h = 2 * fc * np.sinc(2 * fc * m) * np.kaiser(taps, 8.0)
    h *= 2.0 / h.sum()
    z = np.zeros(2 * x.size)
    z[::2] = x
    y = np.convolve(z, h)[(taps - 1) // 2:(taps - 1) // 2 + z.size]
    return y.astype(np.float32)


def speech_16k():
    _, a = reference.read_wav_pcm16(DEMO_WAV)
    return upsample2(a.astype(np.float64))[:65536]


# ---------------------------------------------------------------------------------------
# onnxruntime streaming
# ---------------------------------------------------------------------------------------
def onnx_model_path():
    import extract_weights as ew

    class A:
        onnx = None
        version = ew.VERSION
        download = False
    tmp = tempfile.mkdtemp(prefix="silero_onnx_")
    path, _ = ew.locate_onnx(A, tmp)
    assert ew.sha256_file(path) == ew.EXPECTED_SHA256, "unexpected ONNX model"
    return path


class OrtStream:
    def __init__(self, rate, path=None):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(path or onnx_model_path(), sess_options=opts,
                                         providers=["CPUExecutionProvider"])
        self.rate = rate
        self.chunk = 256 if rate == 8000 else 512
        self.context_size = 32 if rate == 8000 else 64
        self.sr = np.array(rate, dtype=np.int64)
        self.reset()

    def reset(self):
        self.state = np.zeros((2, 1, 128), dtype=np.float32)
        self.context = np.zeros((1, self.context_size), dtype=np.float32)

    def __call__(self, chunk):
        x = np.concatenate([self.context, chunk.reshape(1, -1).astype(np.float32)], axis=1)
        out, self.state = self.sess.run(None, {"input": x, "state": self.state, "sr": self.sr})
        self.context = x[:, -self.context_size:]
        return float(out[0, 0])

    def probabilities(self, audio):
        self.reset()
        n = -(-audio.size // self.chunk)
        padded = np.zeros(n * self.chunk, dtype=np.float32)
        padded[:audio.size] = audio
        return np.array([self(padded[i * self.chunk:(i + 1) * self.chunk]) for i in range(n)],
                        dtype=np.float32)


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    import onnxruntime as ort
    path = onnx_model_path()
    ort8, ort16 = OrtStream(8000, path), OrtStream(16000, path)
    files = {}

    def put(name, arr, what, **extra):
        arr = np.ascontiguousarray(arr, dtype="<f4")
        arr.tofile(os.path.join(args.out, name))
        files[name] = dict({"what": what, "floats": int(arr.size), "sha256": sha(arr)}, **extra)
        print("wrote %-26s %7d floats" % (name, arr.size))

    _, demo = reference.read_wav_pcm16(DEMO_WAV)
    put("demo-call_8k.probs.f32", ort8.probabilities(demo),
        "onnxruntime probabilities, one per 256-sample chunk of ../speech/demo-call.wav "
        "(PCM16/32768, %d samples; last chunk zero-padded), zero state, zero context" % demo.size,
        input="../speech/demo-call.wav", rate=8000, chunk=256)
    n8 = noise_clip(8000)
    put("noise_8k.in.f32", n8, "input: 16384 samples @ 8 kHz, see README (xorshift32 noise, gains "
        "0.5/0/0.02/1.0 per 4096-sample quarter, seed 0x5EED0000+8000)", rate=8000)
    put("noise_8k.probs.f32", ort8.probabilities(n8), "onnxruntime probabilities for noise_8k.in.f32",
        input="noise_8k.in.f32", rate=8000, chunk=256)
    s16 = speech_16k()
    put("speech_16k.in.f32", s16, "input: first 65536 samples (4.096 s) of demo-call.wav upsampled "
        "x2 to 16 kHz (make_golden.upsample2)", rate=16000)
    put("speech_16k.probs.f32", ort16.probabilities(s16), "onnxruntime probabilities for speech_16k.in.f32",
        input="speech_16k.in.f32", rate=16000, chunk=512)
    n16 = noise_clip(16000)
    put("noise_16k.in.f32", n16, "input: 32768 samples @ 16 kHz, see README (xorshift32 noise, gains "
        "0.5/0/0.02/1.0 per 8192-sample quarter, seed 0x5EED0000+16000)", rate=16000)
    put("noise_16k.probs.f32", ort16.probabilities(n16), "onnxruntime probabilities for noise_16k.in.f32",
        input="noise_16k.in.f32", rate=16000, chunk=512)

    # Debug vectors: every intermediate of two single model calls on demo-call.wav at 8 kHz,
    # from the float32 NumPy reference (checked against onnxruntime below).
    vad = reference.SileroVAD(8000, np.float32)
    ortp = ort8.probabilities(demo)
    # chunk 0: zero state and context; chunk 61 (1.952 s, onset of "The person at extension",
    # prob ~0.50): warm state, mid-range output
    want = {0: None, 61: None}
    chunks = np.zeros(-(-demo.size // 256) * 256, dtype=np.float32)
    chunks[:demo.size] = demo
    for i in range(max(want) + 1):
        tr = {} if i in want else None
        vad(chunks[i * 256:(i + 1) * 256], tr)
        if tr is not None:
            want[i] = tr
    blobs, entries, off = [], [], 0
    for i, tr in want.items():
        for k, v in tr.items():
            a = np.ascontiguousarray(v, dtype="<f4").ravel()
            entries.append({"chunk": i, "name": k, "shape": list(np.shape(v)), "offset": off, "count": int(a.size)})
            blobs.append(a)
            off += a.size
        assert abs(float(tr["prob"][0]) - float(ortp[i])) < 1e-6
    dbg = np.concatenate(blobs)
    dbg.tofile(os.path.join(args.out, "debug_8k.f32"))
    with open(os.path.join(args.out, "debug_8k.json"), "w") as f:
        json.dump({"what": "intermediate tensors of single 8 kHz model calls while streaming "
                   "demo-call.wav from zero state (float32 NumPy reference; its prob matches "
                   "onnxruntime to < 1e-6). Shapes are [channels][time] for conv activations; "
                   "gates_preact is in stored order i,f,g,o.",
                   "chunks": {str(i): float(ortp[i]) for i in want},
                   "format": "headerless little-endian float32, offsets/counts in floats",
                   "tensors": entries}, f, indent=1)
        f.write("\n")
    files["debug_8k.f32"] = {"what": "see debug_8k.json", "floats": int(dbg.size), "sha256": sha(dbg)}
    print("wrote debug_8k.f32 / .json     %7d floats" % dbg.size)

    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump({"generator": "make_golden.py", "onnxruntime": ort.__version__,
                   "onnx_model_sha256": "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
                   "session": "CPUExecutionProvider, intra_op_num_threads=1, inter_op_num_threads=1",
                   "streaming": "input = concat(context, chunk); context = last 32 (8k) / 64 (16k) "
                                "samples of input; state [2,1,128] fed back; both start at zero",
                   "files": files}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
