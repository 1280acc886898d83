#!/usr/bin/env python3
"""ResNet-18 layer by layer: ONNX Runtime's profiler against `greenai run --profile`, alternated
ROUNDS times in one run, medians per node summed per layer group (e.g. L1.conv = the four 3x3
convolutions of layer 1). Used in session 7 to find which convolutions held the 2-thread gap.

Usage: profile_layers.py GREENAI MODEL.onnx INPUT.npy [THREADS] [ROUNDS] [RUNS]
(MODEL/INPUT: the resnet18_b1_224 files `greenai_ort_bench export DIR` writes)
"""
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort


def ort_profile(model, x, threads, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(prefix="ortprof_"), "ort")
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for _ in range(runs):
        s.run(None, {name: x})
    path = s.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)
    tot = collections.defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            # ORT names fused nodes after their last op: "layer1.0.bn1.relu_7_nchwc" is conv1.
            nm = re.sub(r"_\d+_nchwc$", "", e["name"][: -len("_kernel_time")])
            nm = nm.replace("bn1.relu", "conv1").replace("bn2", "conv2").replace("downsample.1", "downsample.0")
            tot[nm] += e["dur"] / runs / 1000.0
    time.sleep(1)  # let ORT's spinning workers go idle before greenai runs
    return tot


def greenai_profile(tool, model, inp, threads, runs):
    out = subprocess.run([tool, "run", model, "-i", "input=" + inp, "--threads", str(threads), "--repeat",
                          str(runs), "--profile"], capture_output=True, text=True, check=True).stdout
    tot = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[-3] == str(runs) and re.match(r"^[\d.]+$", f[-2]):
            tot[f[0]] = float(f[-2]) / runs
    return tot


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    tool, model, inp = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    runs = int(sys.argv[6]) if len(sys.argv) > 6 else 30
    x = np.load(inp)
    g_times, o_times = collections.defaultdict(list), collections.defaultdict(list)
    for _ in range(rounds):
        for k, v in greenai_profile(tool, model, inp, threads, runs).items():
            g_times[k].append(v)
        for k, v in ort_profile(model, x, threads, runs).items():
            o_times[k].append(v)
    groups = collections.defaultdict(lambda: [0.0, 0.0])
    for k in set(g_times) | set(o_times):
        grp = re.sub(r"^L1\.conv\d", "L1.conv", re.sub(r"layer(\d)\.\d\.", r"L\1.", k))
        groups[grp][0] += statistics.median(g_times[k]) if k in g_times else 0.0
        groups[grp][1] += statistics.median(o_times[k]) if k in o_times else 0.0
    print(f"{threads} threads, medians of {rounds} alternated rounds x {runs} runs, ms per run "
          "(ORT runs Add+Relu inside its convolutions)")
    tg = to = 0.0
    for k, (g, o) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        tg, to = tg + g, to + o
        ratio = f"{g / o:5.2f}" if o > 0 else "    -"
        print(f"{k:28s} greenai {g:8.3f}  ort {o:8.3f}  greenai/ort {ratio}")
    print(f"{'total':28s} greenai {tg:8.3f}  ort {to:8.3f}  greenai/ort {tg / to:5.2f}")


if __name__ == "__main__":
    main()
