#!/usr/bin/env python3
"""Development-only cross-check: does ONNX Runtime run a greenai-compressed model with the same
top-1 as greenai?  Writes the Fashion-MNIST test images (scaled to [0, 1], [N, 1, 28, 28] as
greenai's IDX reader does) to .npy, runs `greenai run` on them, runs onnxruntime on the same
array, and prints the top-1 agreement and both accuracies as one JSON line.

  python3 bench/prune/ort_check.py build-prune/greenai MODEL.onnx [--limit N]
"""
import argparse, gzip, json, os, subprocess, sys, tempfile

import numpy as np


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("greenai")
    ap.add_argument("model")
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--dir", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    import onnxruntime as ort
    x = idx(os.path.join(a.dir, "t10k-images-idx3-ubyte.gz"))[: a.limit].astype(np.float32) / 255.0
    y = idx(os.path.join(a.dir, "t10k-labels-idx1-ubyte.gz"))[: a.limit].astype(np.int64)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = x.reshape((x.shape[0],) + tuple(d if isinstance(d, int) else -1 for d in inp.shape[1:])) if len(inp.shape) > 2 \
        else x.reshape(x.shape[0], -1)
    ort_logits = sess.run(None, {inp.name: x})[0]
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "x.npy"), x)
        subprocess.run([a.greenai, "run", a.model, "--input", f"{inp.name}={d}/x.npy", "--output-dir", d],
                       check=True, stdout=subprocess.DEVNULL)
        out = sess.get_outputs()[0].name
        g_logits = np.load(os.path.join(d, out + ".npy"))
    agree = float(np.mean(np.argmax(ort_logits, 1) == np.argmax(g_logits, 1)))
    print(json.dumps({"model": a.model, "images": int(x.shape[0]), "top1_agreement": agree,
                      "ort_accuracy": float(np.mean(np.argmax(ort_logits, 1) == y)),
                      "greenai_accuracy": float(np.mean(np.argmax(g_logits, 1) == y)),
                      "max_abs_logit_diff": float(np.max(np.abs(ort_logits - g_logits)))}))
    return 0 if agree >= 0.99 else 1


if __name__ == "__main__":
    sys.exit(main())
