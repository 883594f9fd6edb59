#!/usr/bin/env python3
"""Pure-NumPy streaming reference of Silero VAD (8 kHz and 16 kHz branches).

Loads ONLY silero_vad_<8k|16k>.f32 + .json written by extract_weights.py (no onnx,
no onnxruntime) and reproduces, chunk by chunk, what the official ONNX model computes
when driven the way silero-vad's OnnxWrapper drives it:

  per call:  x = concat(context, chunk)       context = last C samples of previous x
             (prob, state) = model(x, state)  state = [h; c], zeros at the start

This file is the executable form of the spec in README.md; a Swift port should follow
`SileroVAD.forward` step by step.

Usage as a tool:
  python3 reference.py FILE.wav            per-chunk probabilities of an 8/16 kHz PCM16 mono WAV
  python3 reference.py --f32 FILE.f32 --rate 8000
"""

import argparse
import json
import os
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load_weights(rate, folder=HERE):
    stem = os.path.join(folder, "silero_vad_%dk" % (rate // 1000))
    with open(stem + ".json") as f:
        manifest = json.load(f)
    flat = np.fromfile(stem + ".f32", dtype="<f4")
    assert flat.size == manifest["total_floats"], "weights file size does not match manifest"
    w = {}
    for t in manifest["tensors"]:
        w[t["name"]] = flat[t["offset"]:t["offset"] + t["count"]].reshape(t["shape"])
    return manifest, w


def sigmoid(x):
    # exp(-x) may overflow to +inf for very negative x in float32; 1/(1+inf) = 0 is the right answer.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def conv1d(x, weight, bias, stride, pad):
    """x [Cin][T], weight [Cout][Cin][K], zero padding `pad` on both sides.
    out[o][t] = bias[o] + sum_i sum_j weight[o][i][j] * xpad[i][t*stride + j]."""
    cin, T = x.shape
    cout, cin_w, K = weight.shape
    assert cin == cin_w
    xp = np.zeros((cin, T + 2 * pad), dtype=x.dtype)
    xp[:, pad:pad + T] = x
    tout = (T + 2 * pad - K) // stride + 1
    cols = np.empty((cin, K, tout), dtype=x.dtype)          # im2col: [Cin*K][Tout]
    for j in range(K):
        cols[:, j, :] = xp[:, j:j + stride * (tout - 1) + 1:stride]
    return weight.reshape(cout, cin * K) @ cols.reshape(cin * K, tout) + bias[:, None]


class SileroVAD:
    """Streaming Silero VAD. dtype=np.float32 mimics a float32 port; np.float64 is an
    'exact maths' yardstick."""

    def __init__(self, rate=8000, dtype=np.float32, folder=HERE):
        self.manifest, w = load_weights(rate, folder)
        self.rate = rate
        self.dtype = dtype
        self.w = {k: v.astype(dtype) for k, v in w.items()}
        fr = self.manifest["framing"]
        self.chunk = fr["new_samples_per_call"]          # 256 @ 8 kHz, 512 @ 16 kHz
        self.context_size = fr["context_samples"]        # 32 @ 8 kHz, 64 @ 16 kHz
        self.pad = fr["reflect_pad_right"]               # 32 @ 8 kHz, 64 @ 16 kHz
        self.n_fft = fr["stft_kernel"]                   # 128 @ 8 kHz, 256 @ 16 kHz
        self.hop = fr["stft_stride"]                     # 64 @ 8 kHz, 128 @ 16 kHz
        self.enc = self.manifest["encoder"]
        self.reset()

    def reset(self):
        self.context = np.zeros(self.context_size, dtype=self.dtype)
        self.h = np.zeros(128, dtype=self.dtype)
        self.c = np.zeros(128, dtype=self.dtype)

    # -- one model call ---------------------------------------------------------------
    def forward(self, x, h, c, trace=None):
        """x: model input of length context+chunk (288 / 576). Returns (prob, h', c')."""
        w, dt = self.w, self.dtype
        x = np.asarray(x, dtype=dt)
        L = x.size
        P, N, S = self.pad, self.n_fft, self.hop
        K = N // 2 + 1
        # 1. reflection pad on the right only (ONNX Pad mode=reflect; edge sample not repeated)
        xp = np.concatenate([x, x[L - 2:L - 2 - P:-1]])                    # [L+P]
        # 2. STFT as Conv1d(1 -> 2K, kernel N, stride S, no padding) + magnitude
        T = (L + P - N) // S + 1
        frames = np.stack([xp[t * S:t * S + N] for t in range(T)])          # [T][N]
        spec = w["stft.basis"] @ frames.T                                  # [2K][T]
        re, im = spec[:K], spec[K:]
        mag = np.sqrt(re * re + im * im)                                   # [K][T]
        # 3. encoder: 4 x (Conv1d k=3 pad=1, ReLU), strides 1,2,2,1
        y = mag
        enc_out = []
        for i, e in enumerate(self.enc):
            y = conv1d(y, w["encoder.%d.weight" % i], w["encoder.%d.bias" % i], e["stride"], e["pads"][0])
            y = np.maximum(y, 0)
            enc_out.append(y)
        assert y.shape == (128, 1), y.shape
        feat = y[:, 0]                                                     # [128]
        # 4. LSTM cell (gate blocks i, f, g, o in the stored weights)
        gates = w["lstm.weight_ih"] @ feat + w["lstm.weight_hh"] @ h + w["lstm.bias"]   # [512]
        gi, gf, gg, go = gates[0:128], gates[128:256], gates[256:384], gates[384:512]
        c_new = sigmoid(gf) * c + sigmoid(gi) * np.tanh(gg)
        h_new = sigmoid(go) * np.tanh(c_new)
        # 5. decoder: ReLU -> Conv1d(128 -> 1, k=1) -> sigmoid (mean over 1 time step = identity)
        logit = np.dot(w["decoder.weight"], np.maximum(h_new, 0)) + w["decoder.bias"][0]
        prob = sigmoid(logit)
        if trace is not None:
            trace.update({"input": x, "padded": xp, "stft_mag": mag,
                          "encoder0": enc_out[0], "encoder1": enc_out[1], "encoder2": enc_out[2],
                          "encoder3": enc_out[3], "h_in": h, "c_in": c, "gates_preact": gates,
                          "h_out": h_new, "c_out": c_new, "logit": np.array([logit]),
                          "prob": np.array([prob])})
        return dt(prob), h_new.astype(dt), c_new.astype(dt)

    # -- streaming ----------------------------------------------------------------------
    def __call__(self, chunk, trace=None):
        chunk = np.asarray(chunk, dtype=self.dtype)
        assert chunk.size == self.chunk, "chunk must be %d samples" % self.chunk
        x = np.concatenate([self.context, chunk])
        prob, self.h, self.c = self.forward(x, self.h, self.c, trace)
        self.context = x[-self.context_size:].copy()
        return prob

    def probabilities(self, audio):
        """Reset, then one probability per chunk; the last partial chunk is zero-padded
        (as silero-vad's OnnxWrapper.audio_forward does)."""
        self.reset()
        audio = np.asarray(audio, dtype=np.float32)
        n = -(-audio.size // self.chunk)
        padded = np.zeros(n * self.chunk, dtype=np.float32)
        padded[:audio.size] = audio
        return np.array([self(padded[i * self.chunk:(i + 1) * self.chunk]) for i in range(n)],
                        dtype=np.float32)


def read_wav_pcm16(path):
    with wave.open(path, "rb") as wf:
        assert wf.getnchannels() == 1 and wf.getsampwidth() == 2
        rate = wf.getframerate()
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2")
    return rate, pcm.astype(np.float32) / 32768.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--f32", action="store_true", help="input is raw little-endian float32")
    ap.add_argument("--rate", type=int, default=8000)
    ap.add_argument("--float64", action="store_true")
    args = ap.parse_args()
    if args.f32:
        rate, audio = args.rate, np.fromfile(args.path, dtype="<f4")
    else:
        rate, audio = read_wav_pcm16(args.path)
    vad = SileroVAD(rate, np.float64 if args.float64 else np.float32)
    for i, p in enumerate(vad.probabilities(audio)):
        print("%6d %9.4f %.6f" % (i, i * vad.chunk / rate, p))


if __name__ == "__main__":
    main()
