#!/usr/bin/env python3
"""Shows why compare.py pauses after ONNX Runtime's timed runs: ORT's idle intra-op workers keep
spinning for a while, and a greenai process timed in that window loses its second vCPU.

Usage: spin_check.py BUILD/greenai_ort_bench WORKDIR [THREADS]
(WORKDIR: a `greenai_ort_bench export` folder, e.g. the one compare.py --workdir made.)
Prints greenai's median ms for mlp_b1 before any ORT run, right after 30 ORT runs, and 1 s later.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

tool, workdir = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
model = os.path.join(workdir, "mlp_b1.onnx")
x_path = os.path.join(workdir, "mlp_b1.input.npy")
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
x = np.load(x_path)


def greenai_ms():
    p = subprocess.run([tool, "time", model, "--repeat", "10", "--warmup", "20", "--threads", str(threads),
                        "--out", os.path.join(workdir, "spin_check_out"), "--input", f"input={x_path}"],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])["median_ms"]


print(f"greenai mlp_b1, {threads} threads: before any ORT run {greenai_ms():.3f} ms")
for _ in range(30):
    sess.run(None, {"input": x})
print(f"right after 30 ORT runs {greenai_ms():.3f} ms")
time.sleep(1.0)
print(f"1 s later {greenai_ms():.3f} ms")
