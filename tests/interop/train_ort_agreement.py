#!/usr/bin/env python3
"""Interop check for `greenai train`: the exported ONNX model gives the same top-1 in ONNX
Runtime as in greenai on >= 99.9 % of the Fashion-MNIST test set.

Trains a small mlp briefly (the agreement is what matters, not the accuracy), and a small cnn
when the convolution/BatchNorm gradient rules are available, then runs the 10,000 test images
through `greenai run` and through onnxruntime and compares arg-maxes. Also checks that
`greenai eval --json` reports the accuracy computed here from greenai's own logits.

Exit codes: 0 pass, 1 fail, 77 skipped (python deps or data missing; ctest SKIP_RETURN_CODE).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys

SKIP = 77
DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, GREENAI_NO_PROGRESS="1"))
    return r.returncode, r.stdout, r.stderr


def check_model(greenai, workdir, arch, train_args, x_path, x, labels):
    import numpy as np
    import onnxruntime as ort
    model = os.path.join(workdir, arch + ".onnx")
    rc, out, err = run([greenai, "train", "--model", arch, "--data", "fashion-mnist", "--no-eval",
                        "--seed", "7", "--out", model] + train_args)
    if rc != 0:
        if arch != "mlp" and "no gradient rule" in err:
            print(f"{arch}: skipped ({err.strip()})")
            return True
        print(f"{arch}: greenai train failed: {err.strip()}")
        return False
    outdir = os.path.join(workdir, arch + "_out")
    rc, out, err = run([greenai, "run", model, "--input", "input=" + x_path, "--output-dir", outdir])
    if rc != 0:
        print(f"{arch}: greenai run failed: {err.strip()}")
        return False
    g_logits = np.load(os.path.join(outdir, "logits.npy"))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    o_logits = sess.run(None, {"input": x})[0]
    g_top, o_top = g_logits.argmax(1), o_logits.argmax(1)
    agree = float((g_top == o_top).mean())
    acc = float((g_top == labels).mean())
    rc, out, err = run([greenai, "eval", model, "--data", "fashion-mnist", "--json"])
    if rc != 0:
        print(f"{arch}: greenai eval failed: {err.strip()}")
        return False
    eval_acc = json.loads(out)["accuracy"]
    print(f"{arch}: top-1 agreement greenai vs onnxruntime {100 * agree:.2f} % on {len(labels)} images; "
          f"accuracy {100 * acc:.2f} % (greenai eval: {100 * eval_acc:.2f} %); "
          f"max |logit diff| {np.abs(g_logits - o_logits).max():.2e}")
    ok = agree >= 0.999 and abs(eval_acc - acc) < 1e-9
    if not ok:
        print(f"{arch}: FAIL (needs agreement >= 99.9 % and eval accuracy == accuracy from greenai run)")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--greenai", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    try:
        import numpy as np
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (pip install numpy onnxruntime)")
        return SKIP
    if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
        print(f"skipped: {DATA} not found (install dataset-fashion-mnist)")
        return SKIP
    os.makedirs(args.workdir, exist_ok=True)
    x = (read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0)
    x = x.reshape(-1, 1, 28, 28)
    labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    x_path = os.path.join(args.workdir, "test_x.npy")
    np.save(x_path, x)
    ok = check_model(args.greenai, args.workdir, "mlp",
                     ["--widths", "128", "--limit", "6000", "--epochs", "1", "--batch", "64"], x_path, x, labels)
    ok = check_model(args.greenai, args.workdir, "cnn",
                     ["--widths", "8,16", "--limit", "2000", "--epochs", "1", "--batch", "64"], x_path, x,
                     labels) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
