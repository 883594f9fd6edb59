#!/usr/bin/env python3
"""Extract the Silero VAD weights from the official ONNX model into flat float32 files.

Writes, next to this script (or into --out):
  silero_vad_8k.f32  + silero_vad_8k.json    weights of the 8 kHz branch
  silero_vad_16k.f32 + silero_vad_16k.json   weights of the 16 kHz branch

Each .f32 is a headerless little-endian IEEE-754 float32 array; the .json manifest
lists every tensor (name, shape, offset and count in floats, layout, meaning, and
the ONNX constant it came from). See README.md for the layouts and the model spec.

The ONNX model is taken from the PyPI package `silero-vad` (default 6.2.3):
  --onnx PATH    use this file
  otherwise      use an installed silero_vad package if its version matches (unless
                 --download), else
                 `pip download --no-deps silero-vad==VERSION` into a temp dir.
The script refuses a model whose SHA-256 differs from the expected one unless
--allow-other-model is given.

Besides copying tensors, it reads the graph's hyper-parameters (pad amount and mode,
STFT conv kernel/stride, encoder conv kernel/stride/pads, LSTM hidden size, gate
reordering) and asserts they are what reference.py and the README assume.

Needs: numpy, onnx.
"""

import argparse
import glob
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import numpy_helper, helper

PACKAGE = "silero-vad"
VERSION = "6.2.3"
ONNX_IN_WHEEL = "silero_vad/data/silero_vad.onnx"
EXPECTED_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"

HERE = os.path.dirname(os.path.abspath(__file__))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate_onnx(args, tmp):
    if args.onnx:
        return args.onnx, "given on the command line"
    spec = None if args.download else importlib.util.find_spec("silero_vad")  # finds without importing (import needs torch)
    if spec and spec.submodule_search_locations:
        pkg = list(spec.submodule_search_locations)[0]
        cand = os.path.join(pkg, "data", "silero_vad.onnx")
        dist = glob.glob(os.path.join(os.path.dirname(pkg), "silero_vad-%s.dist-info" % args.version))
        if os.path.exists(cand) and dist:
            return cand, "installed package %s %s" % (PACKAGE, args.version)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "-d", tmp, "%s==%s" % (PACKAGE, args.version)], check=True)
    wheels = glob.glob(os.path.join(tmp, "silero_vad-%s-*.whl" % args.version))
    if not wheels:
        sys.exit("pip download produced no wheel")
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract(ONNX_IN_WHEEL, tmp)
    return os.path.join(tmp, ONNX_IN_WHEEL), "downloaded wheel %s" % os.path.basename(wheels[0])


def short(name):
    """Strip the inlining prefix the exporter put on names inside the If branches."""
    for p in ("If_0_else_branch__Inline_0__", "If_0_then_branch__Inline_0__"):
        if name.startswith(p):
            return name[len(p):]
    return name


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def branches(model):
    g = model.graph
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    ifs = [n for n in g.node if n.op_type == "If"]
    assert len(ifs) == 1, "expected exactly one top-level If"
    ifn = ifs[0]
    eq = [n for n in g.node if n.output and n.output[0] == ifn.input[0]][0]
    assert eq.op_type == "Equal" and "sr" in eq.input, "If condition is not Equal(sr, const)"
    c = [consts[i] for i in eq.input if i in consts][0]
    assert int(numpy_helper.to_array(attr(c, "value"))) == 16000
    out = {}
    for a in ifn.attribute:
        out[{"then_branch": 16000, "else_branch": 8000}[a.name]] = a.g
    return out


def analyse_branch(g):
    """Return (constants by short name, hyper-parameters read from the graph)."""
    consts = {}
    for n in g.node:
        if n.op_type == "Constant":
            consts[short(n.output[0])] = numpy_helper.to_array(attr(n, "value"))
    hp = {}
    nodes = list(g.node)
    # Reflection pad: pads come from a constant [0, P] (F.pad(x, (0, P)) on the last axis).
    pads = [n for n in nodes if n.op_type == "Pad"]
    assert len(pads) == 1
    assert attr(pads[0], "mode") == b"reflect"
    assert pads[0].input[0] == "input", "Pad must act directly on the model input"
    pad_pair = consts["/stft/padding/Constant_1_output_0"].tolist()
    assert pad_pair[0] == 0
    hp["reflect_pad_right"] = int(pad_pair[1])
    convs = [n for n in nodes if n.op_type == "Conv"]
    assert len(convs) == 6, len(convs)
    stft = convs[0]
    assert short(stft.input[1]) == "stft.forward_basis_buffer" and len(stft.input) == 2
    hp["stft_kernel"] = int(attr(stft, "kernel_shape")[0])
    hp["stft_stride"] = int(attr(stft, "strides")[0])
    assert list(attr(stft, "pads")) == [0, 0]
    hp["encoder"] = []
    for i, cv in enumerate(convs[1:5]):
        assert short(cv.input[1]) == "encoder.%d.reparam_conv.weight" % i
        hp["encoder"].append({"kernel": int(attr(cv, "kernel_shape")[0]),
                              "stride": int(attr(cv, "strides")[0]),
                              "pads": [int(p) for p in attr(cv, "pads")],
                              "dilation": int(attr(cv, "dilations")[0]),
                              "group": int(attr(cv, "group"))})
    assert short(convs[5].input[1]) == "decoder.decoder.2.weight"
    relus = [n for n in nodes if n.op_type == "Relu"]
    assert len(relus) == 5  # 4 encoder + 1 decoder
    assert [n.op_type for n in nodes if n.op_type in ("Sigmoid", "ReduceMean", "Sqrt")] == \
        ["Sqrt", "Sigmoid", "ReduceMean"]

    # LSTM (inside nested Ifs): check hidden size, activations, and the gate re-ordering slices.
    def walk(graph):
        for n in graph.node:
            yield n
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    yield from walk(a.g)
    lstms = [n for n in walk(g) if n.op_type == "LSTM"]
    assert lstms
    for l in lstms:
        assert attr(l, "hidden_size") == 128
        assert attr(l, "activations") is None and attr(l, "clip") is None
        assert attr(l, "direction") in (None, b"forward") and attr(l, "input_forget") in (None, 0)
        assert l.input[4] == "" and (len(l.input) < 8 or l.input[7] == "")  # no seq_lens, no peepholes
    # Slices of decoder.rnn.weight_ih: [0:128], [384:512], [128:384]  => ONNX order i,o,f,c
    # from PyTorch order i,f,g,o.
    c_sub = {}
    for n in walk(g):
        if n.op_type == "Constant":
            c_sub[n.output[0]] = numpy_helper.to_array(attr(n, "value"))
    order = []
    for n in walk(g):
        if n.op_type == "Slice" and short(n.input[0]) == "decoder.rnn.weight_ih":
            order.append((int(c_sub[n.input[1]][0]), int(c_sub[n.input[2]][0])))
    assert order[:3] == [(0, 128), (384, 512), (128, 384)], order
    hp["lstm_hidden"] = 128
    hp["onnx_lstm_gate_slices_of_pytorch_rows"] = {"i": [0, 128], "o": [384, 512], "f_then_c": [128, 384]}
    return consts, hp


def build(rate, consts, hp):
    N = hp["stft_kernel"]
    basis = consts["stft.forward_basis_buffer"]
    K = N // 2 + 1
    assert basis.shape == (2 * K, 1, N)
    w = {k: consts[k] for k in consts if "." in k and not k.startswith("/")}
    b_ih = consts["decoder.rnn.bias_ih"].astype(np.float32)
    b_hh = consts["decoder.rnn.bias_hh"].astype(np.float32)
    tensors = [
        ("stft.basis", basis[:, 0, :], "stft.forward_basis_buffer",
         "[2K][N] row-major, K=%d, N=%d. Rows 0..K-1: real part basis = hann(n)*cos(2*pi*k*n/N); "
         "rows K..2K-1: imaginary part basis = -hann(n)*sin(2*pi*k*n/N); hann(n) = 0.5-0.5*cos(2*pi*n/N) "
         "(periodic). Conv1d weight with in_channels=1 squeezed out." % (K, N)),
    ]
    for i in range(4):
        wt = consts["encoder.%d.reparam_conv.weight" % i]
        e = hp["encoder"][i]
        tensors.append(("encoder.%d.weight" % i, wt, "encoder.%d.reparam_conv.weight" % i,
                        "Conv1d weight [out=%d][in=%d][k=%d] row-major; kernel %d, stride %d, zero pad %d each side, "
                        "followed by ReLU" % (wt.shape + (e["kernel"], e["stride"], e["pads"][0]))))
        tensors.append(("encoder.%d.bias" % i, consts["encoder.%d.reparam_conv.bias" % i],
                        "encoder.%d.reparam_conv.bias" % i, "Conv1d bias [out=%d]" % wt.shape[0]))
    tensors += [
        ("lstm.weight_ih", consts["decoder.rnn.weight_ih"], "decoder.rnn.weight_ih",
         "[4H=512][in=128] row-major, gate blocks in PyTorch order i, f, g, o (rows 0-127 input gate, "
         "128-255 forget gate, 256-383 cell candidate g, 384-511 output gate). The ONNX graph reorders "
         "these blocks to ONNX order i, o, f, c before its LSTM op; the maths is identical."),
        ("lstm.weight_hh", consts["decoder.rnn.weight_hh"], "decoder.rnn.weight_hh",
         "[4H=512][H=128] row-major, same gate order i, f, g, o"),
        ("lstm.bias", (b_ih + b_hh).astype(np.float32), "decoder.rnn.bias_ih + decoder.rnn.bias_hh",
         "[4H=512], gate order i, f, g, o; float32 sum bias_ih + bias_hh (ONNX LSTM adds Wb + Rb the same way)"),
        ("decoder.weight", consts["decoder.decoder.2.weight"].reshape(-1), "decoder.decoder.2.weight",
         "[128]: Conv1d 128->1 kernel 1 weight [1][128][1] flattened (a dot product with relu(h))"),
        ("decoder.bias", consts["decoder.decoder.2.bias"].reshape(-1), "decoder.decoder.2.bias", "[1]"),
    ]
    blobs, entries, off = [], [], 0
    for name, arr, src, desc in tensors:
        a = np.ascontiguousarray(arr, dtype="<f4")
        blobs.append(a.ravel())
        entries.append({"name": name, "shape": list(a.shape), "offset": off, "count": int(a.size),
                        "onnx_source": src, "layout": desc})
        off += a.size
    data = np.concatenate(blobs).astype("<f4")
    chunk = 256 if rate == 8000 else 512
    ctx = 32 if rate == 8000 else 64
    return data, entries, {"chunk": chunk, "context": ctx}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx")
    ap.add_argument("--version", default=VERSION)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--allow-other-model", action="store_true")
    ap.add_argument("--download", action="store_true", help="always pip-download the wheel")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path, how = locate_onnx(args, tmp)
        digest = sha256_file(path)
        if digest != EXPECTED_SHA256 and not args.allow_other_model:
            sys.exit("unexpected model sha256 %s (expected %s)" % (digest, EXPECTED_SHA256))
        model = onnx.load(path)
    print("model:", path, "(%s)" % how, "sha256", digest)

    for rate, g in sorted(branches(model).items()):
        consts, hp = analyse_branch(g)
        data, entries, framing = build(rate, consts, hp)
        tag = "%dk" % (rate // 1000)
        stem = os.path.join(args.out, "silero_vad_%s" % tag)
        data.tofile(stem + ".f32")
        N, S = hp["stft_kernel"], hp["stft_stride"]
        L = framing["context"] + framing["chunk"]
        frames = (L + hp["reflect_pad_right"] - N) // S + 1
        manifest = {
            "format": "headerless little-endian float32; offsets and counts are in floats (x4 for bytes); "
                      "multi-dimensional tensors are row-major (C order)",
            "file": os.path.basename(stem + ".f32"),
            "file_sha256": hashlib.sha256(data.tobytes()).hexdigest(),
            "total_floats": int(data.size),
            "source": {"pypi_package": PACKAGE, "version": args.version, "file_in_wheel": ONNX_IN_WHEEL,
                       "onnx_sha256": digest, "onnx_branch": "If(sr == 16000): %s branch" %
                       ("then" if rate == 16000 else "else"),
                       "licence": "MIT, Copyright (c) 2020-present Silero Team; see LICENSE-silero-vad.txt"},
            "sample_rate": rate,
            "framing": {"new_samples_per_call": framing["chunk"], "context_samples": framing["context"],
                        "model_input_length": L, "reflect_pad_right": hp["reflect_pad_right"],
                        "stft_kernel": N, "stft_stride": S, "stft_bins": N // 2 + 1, "stft_frames": frames},
            "encoder": hp["encoder"],
            "lstm": {"hidden": 128, "stored_gate_order": "i,f,g,o (PyTorch)",
                     "onnx_gate_order": "i,o,f,c", "state_input": "[2][1][128]: state[0] = h, state[1] = c"},
            "tensors": entries,
        }
        with open(stem + ".json", "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        print("wrote %s.f32 (%d floats, %d bytes) and .json; frames per call %d" %
              (stem, data.size, data.size * 4, frames))


if __name__ == "__main__":
    main()
