#!/usr/bin/env python3
"""Latency of the low-precision-weight variants of one model with `greenai run` (docs/quantization.md,
"Low-precision weight kernels").

Writes the fp16, bf16 and int4-weight files with `greenai quantize` (unless they exist in --workdir),
seeded float32 inputs [batch, *input_shape] (numpy seed 0), then runs every (threads, batch, variant)
`greenai run FILE -i NAME=X.npy --threads T --repeat R` in interleaved rounds (the variants alternate in
every round) and prints a markdown table of the median over rounds of each run's median latency.

Usage: lowp_latency.py --greenai BUILD/greenai --model mlp.onnx [--workdir DIR] [--input input]
                       [--shape 1,28,28] [--batches 1,64] [--threads 1,2] [--rounds 3] [--repeat 2000]
"""
import argparse
import os
import re
import statistics
import subprocess

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--greenai", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--workdir", default="/tmp/lowp")
    ap.add_argument("--input", default="input")
    ap.add_argument("--shape", default="1,28,28")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2000)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.model))[0]
    files = {"fp32": a.model}
    for mode, name in (("fp16", "fp16"), ("bf16", "bf16"), ("int4-weight", "int4")):
        out = os.path.join(a.workdir, f"{stem}_{mode}.onnx")
        if not os.path.exists(out):
            subprocess.run([a.greenai, "quantize", a.model, "-o", out, "--mode", mode], check=True,
                           stdout=subprocess.DEVNULL)
        files[name] = out
    shape = [int(d) for d in a.shape.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    threads = [int(t) for t in a.threads.split(",")]
    rng = np.random.default_rng(0)
    inputs = {}
    for b in batches:
        inputs[b] = os.path.join(a.workdir, f"x{b}.npy")
        np.save(inputs[b], rng.random([b] + shape, dtype=np.float32))
    res = {}
    for _ in range(a.rounds):
        for t in threads:
            for b in batches:
                for name, f in files.items():
                    out = subprocess.run([a.greenai, "run", f, "-i", f"{a.input}={inputs[b]}", "--threads", str(t),
                                          "--repeat", str(a.repeat)], capture_output=True, text=True, check=True).stdout
                    res.setdefault((name, b, t), []).append(float(re.search(r"median ([0-9.]+) ms", out).group(1)))
    print(f"| variant | batch | threads | median of {a.rounds} (ms) | runs (ms) |")
    print("|---|---:|---:|---:|---|")
    for t in threads:
        for b in batches:
            for name in files:
                v = res[(name, b, t)]
                print(f"| {name} | {b} | {t} | {statistics.median(v):.3f} | {', '.join(f'{x:.3f}' for x in v)} |")


if __name__ == "__main__":
    main()
