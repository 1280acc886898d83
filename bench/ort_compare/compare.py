#!/usr/bin/env python3
"""greenai vs ONNX Runtime: median latency per model, interleaved in one run, with an
output check (a speed number on wrong output is worthless).

For each model exported by `greenai_ort_bench export`, each round times greenai (the C++
tool: one Session, `--repeat` timed runs after warmup) and then ONNX Runtime (one
InferenceSession, intra_op_num_threads=T, inter_op_num_threads=1, all graph optimizations,
the same number of timed runs after warmup). Rounds alternate so drifting machine load hits
both alike. Medians are over all timed runs of all rounds. Outputs of greenai's last run are
compared with ORT's (rtol/atol below); a mismatch is flagged in the table and makes the
script exit 1.

Usage: compare.py --tool BUILD/greenai_ort_bench [--workdir DIR] [--image 224] [--rounds 3]
                  [--repeat 5] [--threads 2] [--only REGEX] [--json FILE] [--conv-layers]
--conv-layers adds ResNet-18's four 3x3 convolution shapes, each as its own model
(e.g. `--conv-layers --only conv3x3` compares the convolutions layer by layer).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("compare.py: onnxruntime is not installed (run scripts/install-deps.sh)")

RTOL, ATOL = 1e-3, 1e-4
ORT_SETTLE_S = 1.0  # pause after ORT's timed runs (see time_ort)


def ort_session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_ort(sess, feeds, warmup, repeat):
    for _ in range(warmup):
        sess.run(None, feeds)
    times, outs = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        outs = sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    # ONNX Runtime's idle intra-op workers keep spinning for a while after the last run: a
    # greenai process started in that window found its second vCPU taken (the mlp at batch 1
    # measured 1.3 ms instead of 0.05 on two threads). Let them go to sleep first.
    time.sleep(ORT_SETTLE_S)
    return times, outs


def time_greenai(tool, entry, warmup, repeat, threads, out_dir):
    cmd = [tool, "time", entry["model"], "--repeat", str(repeat), "--warmup", str(warmup),
           "--threads", str(threads), "--out", out_dir]
    for name, path in entry["inputs"].items():
        cmd += ["--input", f"{name}={path}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip() or f"exit {p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=10)  # this host needs tens of runs to settle (see README)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=None, help="regex on model names")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--conv-layers", action="store_true", help="also export single-convolution models")
    args = ap.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="greenai_ort_")
    export = [args.tool, "export", workdir, "--image", str(args.image)] + (["--conv-layers"] if args.conv_layers else [])
    p = subprocess.run(export, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"compare.py: export failed: {p.stderr.strip()}")
    with open(os.path.join(workdir, "manifest.json")) as f:
        manifest = json.load(f)

    rows, failed = [], False
    for entry in manifest:
        name = entry["name"]
        if args.only and not re.search(args.only, name):
            continue
        # Big batches: fewer timed runs keep the whole benchmark within minutes on 2 cores.
        repeat = max(1, args.repeat // 2) if "b32" in name else args.repeat
        feeds = {k: np.load(v) for k, v in entry["inputs"].items()}
        out_dir = os.path.join(workdir, name + ".greenai_out")
        row = {"model": name, "greenai_ms": None, "ort_ms": None, "ratio": None, "max_abs_diff": None,
               "match": False, "error": None, "kernels": None}
        try:
            sess = ort_session(entry["model"], args.threads)
            g_times, o_times, o_outs = [], [], None
            for _ in range(args.rounds):
                g = time_greenai(args.tool, entry, args.warmup, repeat, args.threads, out_dir)
                g_times += g["times_ms"]
                row["kernels"] = g.get("kernels")
                t, o_outs = time_ort(sess, feeds, args.warmup, repeat)
                o_times += t
            row["greenai_ms"] = float(np.median(g_times))
            row["ort_ms"] = float(np.median(o_times))
            row["ratio"] = row["greenai_ms"] / row["ort_ms"]
            diffs, ok = [], True
            for i, ref in enumerate(o_outs):
                got = np.load(os.path.join(out_dir, f"output_{i}.npy"))
                if got.shape != ref.shape:
                    ok = False
                    diffs.append(float("inf"))
                    continue
                diffs.append(float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))))
                ok = ok and bool(np.allclose(got, ref, rtol=RTOL, atol=ATOL))
            row["max_abs_diff"] = max(diffs) if diffs else 0.0
            row["match"] = ok
        except Exception as e:  # one failing model must not hide the others
            row["error"] = str(e).splitlines()[0][:160]
        failed = failed or not row["match"]
        rows.append(row)
        print(f"# {name}: done", file=sys.stderr, flush=True)

    print(f"\ngreenai vs ONNX Runtime {ort.__version__} — {args.threads} threads, median of "
          f"{args.rounds} interleaved rounds x {args.repeat} runs (b32: {max(1, args.repeat // 2)}), "
          f"image {args.image}; outputs checked with rtol={RTOL}, atol={ATOL}\n")
    print("| model | greenai ms | ORT ms | greenai/ORT | max abs diff | outputs |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        if r["error"]:
            print(f"| {r['model']} | — | — | — | — | error: {r['error']} |")
            continue
        print(f"| {r['model']} | {r['greenai_ms']:.3f} | {r['ort_ms']:.3f} | {r['ratio']:.2f} | "
              f"{r['max_abs_diff']:.2e} | {'match' if r['match'] else 'MISMATCH'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
