#!/usr/bin/env python3
"""Interleaved latency of greenai fp32, greenai int8, ONNX Runtime int8 (same QDQ file) and ONNX
Runtime fp32 on MODEL.onnx / MODEL_int8.onnx at batch 1 and 64, medians over all rounds (the
session-5 table in docs/quantization.md).

Usage: TH=1|2 ROUNDS=5 REP=40 int8_latency.py BUILD/greenai_ort_bench MODELS_DIR [mlp cnn ...]
Inputs: seeded uniform [0, 1) float32 [B, 1, 28, 28] (Fashion-MNIST's shape), written next to
the models as bench_x{B}.npy.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_bench as qb  # noqa: E402

tool, models_dir = sys.argv[1], sys.argv[2]
names = sys.argv[3:] or ["mlp", "cnn"]
th = int(os.environ.get("TH", "2"))
rounds = int(os.environ.get("ROUNDS", "5"))
rep = int(os.environ.get("REP", "40"))
out_dir = os.path.join(models_dir, "bench_out")
for m in names:
    f32, q = os.path.join(models_dir, f"{m}.onnx"), os.path.join(models_dir, f"{m}_int8.onnx")
    sf, sq = qb.ort_session(f32, th), qb.ort_session(q, th)
    for b in (1, 64):
        xp = os.path.join(models_dir, f"bench_x{b}.npy")
        if not os.path.exists(xp):
            np.save(xp, np.random.default_rng(b).random((b, 1, 28, 28), dtype=np.float32))
        feeds = {"input": np.load(xp)}
        t = {k: [] for k in ("g32", "g8", "o8", "o32")}
        for _ in range(rounds):
            t["g32"] += qb.time_greenai(tool, f32, xp, 10, rep, th, out_dir)
            t["g8"] += qb.time_greenai(tool, q, xp, 10, rep, th, out_dir)
            t["o8"] += qb.time_ort(sq, feeds, 10, rep)
            t["o32"] += qb.time_ort(sf, feeds, 10, rep)
        md = {k: float(np.median(v)) for k, v in t.items()}
        print(f"{m} b{b} th{th}: greenai fp32 {md['g32']:.3f}  int8 {md['g8']:.3f} ({md['g32'] / md['g8']:.2f}x)  "
              f"ORT int8 {md['o8']:.3f} (ours/ORT {md['g8'] / md['o8']:.2f})  ORT fp32 {md['o32']:.3f} ms", flush=True)
