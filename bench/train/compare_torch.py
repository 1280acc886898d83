#!/usr/bin/env python3
"""Training throughput: greenai train vs PyTorch (CPU), same architecture, batch, optimizer
(AdamW), data and thread count. Development-only (not part of `make test`).

  python3 bench/train/compare_torch.py --greenai build/greenai [--threads 2] [--batch 128] [--samples 12800]
                                      [--rounds 3]

PyTorch comes from Debian (`apt-get install python3-torch libopenblas0-pthread`, CPU build with
oneDNN 2.6 and, through Debian's BLAS alternatives, OpenBLAS; for /usr/bin/python3):
the script re-runs itself under /usr/bin/python3 when the current interpreter has no torch,
and installs the Debian package (as root) when neither has it. The PyTorch CPU wheels are
not used: download.pytorch.org is not reachable from here and PyPI's wheel pulls GBs of CUDA.

Prints a markdown table of training samples/s (one epoch over the first --samples
Fashion-MNIST training images, no evaluation; the greenai figure is the trainer's own epoch
rate, the torch one is timed the same way: from the first batch to the last optimizer step)
and the greenai/torch ratio. The tools alternate for --rounds rounds (one interleaved run,
so both see the same machine load); the table gives the medians.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"


def ensure_torch():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    # -s: Debian's torch needs Debian's numpy 1.x, not a pip --user numpy 2 that would shadow it.
    has = lambda: subprocess.call([system, "-s", "-c", "import torch, numpy"], stderr=subprocess.DEVNULL) == 0
    if not has() and os.geteuid() == 0:
        # libopenblas0-pthread takes over Debian's libblas.so.3 alternative: with the default
        # reference BLAS, torch's Linear layers run ~13x slower (an unfair peer).
        subprocess.check_call(["apt-get", "install", "-y", "python3-torch", "libopenblas0-pthread"])
    if not has():
        raise SystemExit("compare_torch.py: PyTorch is missing; install Debian's python3-torch")
    if os.path.realpath(sys.executable) != os.path.realpath(system):
        os.execv(system, [system, "-s"] + sys.argv)


def read_idx(path, limit):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    a = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return a[:limit]


def torch_model(arch):
    import torch.nn as nn
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    layers, c = [], 1
    for w in (16, 32):
        for _ in range(2):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_rate(arch, x, y, batch, threads, lr):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch_model(arch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = (len(yt) // batch) * batch
    perm = torch.randperm(len(yt))
    model.train()
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    return n / (time.perf_counter() - t0)


def greenai_rate(greenai, arch, samples, batch, threads, lr, workdir):
    out = os.path.join(workdir, arch + ".onnx")
    r = subprocess.run([greenai, "train", "--model", arch, "--data", "fashion-mnist", "--limit", str(samples),
                        "--epochs", "1", "--batch", str(batch), "--lr", str(lr), "--threads", str(threads),
                        "--no-eval", "--json", "--out", out], capture_output=True, text=True,
                       env=dict(os.environ, GREENAI_NO_PROGRESS="1"))
    if r.returncode != 0:
        raise SystemExit(f"greenai train --model {arch} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)["history"][0]["samples_per_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--greenai", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--archs", default="mlp,cnn")
    ap.add_argument("--workdir", default="/tmp/greenai_train_bench")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ensure_torch()
    import numpy as np
    import torch
    os.makedirs(args.workdir, exist_ok=True)
    x = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"), args.samples).astype(np.float32) / 255.0
    x = np.ascontiguousarray(x.reshape(-1, 1, 28, 28))
    y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"), args.samples).astype(np.int64)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, {len(y)} samples, AdamW, "
          f"medians of {args.rounds} interleaved rounds\n")
    rows = []
    for arch in args.archs.split(","):
        gs, ts = [], []
        for r in range(args.rounds):
            gs.append(greenai_rate(args.greenai, arch, args.samples, args.batch, args.threads, 1e-3, args.workdir))
            ts.append(torch_rate(arch, x, y, args.batch, args.threads, 1e-3))
            print(f"  {arch} round {r + 1}: greenai {gs[-1]:.0f}, PyTorch {ts[-1]:.0f} samples/s", file=sys.stderr)
        rows.append((arch, statistics.median(gs), statistics.median(ts), gs, ts))
    print("| model | greenai samples/s | PyTorch samples/s | greenai / PyTorch | greenai runs | PyTorch runs |")
    print("|---|---:|---:|---:|---|---|")
    for arch, g, t, gs, ts in rows:
        print(f"| {arch} | {g:.0f} | {t:.0f} | {g / t:.2f} | {' '.join(f'{v:.0f}' for v in gs)} "
              f"| {' '.join(f'{v:.0f}' for v in ts)} |")


if __name__ == "__main__":
    main()
