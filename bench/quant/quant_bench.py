#!/usr/bin/env python3
"""Quantization benchmark for the Fashion-MNIST `mlp` and `cnn` (issue 5 bars).

For each fp32 model (given with --mlp/--cnn, else trained here with `greenai train`):
  1. writes the variants with `greenai quantize`: static int8 per-channel (QDQ), dynamic int8 (mlp),
     fp16, int4-weight (mlp);
  2. top-1 accuracy of each file on the 10,000 test images in greenai, and the share of images where
     ONNX Runtime gives the same top-1 on the same file;
  3. file sizes;
  4. latency at batch 1 and 64: greenai fp32 vs greenai on the QDQ file vs ONNX Runtime on the same
     QDQ file (and ORT fp32), one interleaved run (rounds alternate tools), medians over all timed runs;
     greenai's side is timed by bench/ort_compare's C++ tool (exactly Session::Run);
  5. joules per 1000 inferences, ESTIMATED on this VM (no RAPL): `greenai measure` around the timing
     tool at two repeat counts (the larger one ~2 s of inference longer); the difference divided by
     the extra inferences, median of 3.

Usage: quant_bench.py --greenai BUILD/greenai --tool BUILD/greenai_ort_bench [--workdir DIR]
                      [--mlp MLP.onnx] [--cnn CNN.onnx] [--epochs 3] [--rounds 5] [--repeat 20]
                      [--threads 2] [--json FILE]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    sys.exit("quant_bench.py: onnxruntime is not installed")

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run(cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, GREENAI_NO_PROGRESS="1"))
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}: {r.stderr.strip()[-400:]}")
    return r


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
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        t.append((time.perf_counter() - t0) * 1e3)
    # ONNX Runtime's idle workers spin on after the last run and would take the second vCPU
    # from whatever is timed next (see bench/ort_compare/compare.py): let them sleep first.
    time.sleep(1.0)
    return t


def time_greenai(tool, model, x_path, warmup, repeat, threads, out_dir):
    r = run([tool, "time", model, "--input", f"input={x_path}", "--repeat", str(repeat), "--warmup", str(warmup),
             "--threads", str(threads), "--out", out_dir])
    return json.loads(r.stdout.strip().splitlines()[-1])["times_ms"]


def greenai_logits(greenai, model, x_path, out_dir):
    run([greenai, "run", model, "--input", f"input={x_path}", "--output-dir", out_dir])
    return np.load(os.path.join(out_dir, "logits.npy"))


def joules_per_1000(greenai, tool, model, x_path, batch, threads, workdir, latency_ms, trials=3):
    """Estimated: energy of (repeat = R1 + extra) minus (repeat = R1) runs of the timing tool, per
    inference, where `extra` runs take ~2 s (so process start-up and model load cancel out and the
    difference is well above the meter's resolution); the median of `trials` such differences."""
    r1 = 20
    extra = max(200, int(2000.0 / max(latency_ms, 1e-3)))
    os.makedirs(workdir, exist_ok=True)

    def measure(r):
        p = run([greenai, "measure", "--json", "--output-dir", workdir, "--", tool, "time", model, "--input",
                 f"input={x_path}", "--repeat", str(r), "--warmup", "2", "--threads", str(threads), "--out",
                 os.path.join(workdir, "measure_out")])
        j = json.loads(p.stdout)
        return j.get("total_j", 0.0), j.get("method", "?")

    per, method = [], "?"
    for _ in range(trials):
        (j1, _), (j2, method) = measure(r1), measure(r1 + extra)
        per.append((j2 - j1) / (extra * batch))
    return max(float(np.median(per)), 0.0) * 1000, method


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--greenai", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--mlp", default=None)
    ap.add_argument("--cnn", default=None)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-energy", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    wd = args.workdir or tempfile.mkdtemp(prefix="greenai_quant_")
    os.makedirs(wd, exist_ok=True)
    x = (read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    x_path = os.path.join(wd, "test_x.npy")
    np.save(x_path, x)
    batch_paths = {}
    for b in (1, 64):
        batch_paths[b] = os.path.join(wd, f"x_b{b}.npy")
        np.save(batch_paths[b], x[:b])

    results = {}
    for arch in ("mlp", "cnn"):
        fp32 = getattr(args, arch)
        if not fp32:
            fp32 = os.path.join(wd, f"{arch}.onnx")
            print(f"# training {arch} ({args.epochs} epochs)", file=sys.stderr, flush=True)
            run([args.greenai, "train", "--model", arch, "--data", "fashion-mnist", "--epochs", str(args.epochs),
                 "--seed", "1", "--no-eval", "--out", fp32])
        files = {"fp32": fp32}
        # cnn fp16 is left out: greenai runs fp16 convolutions on the reference kernels (minutes for 10k images).
        modes = ["static", "dynamic", "fp16", "int4-weight"] if arch == "mlp" else ["static"]
        for mode in modes:
            out = os.path.join(wd, f"{arch}_{mode}.onnx")
            cmd = [args.greenai, "quantize", fp32, "-o", out, "--mode", mode]
            if mode == "static":
                cmd += ["--calib", "fashion-mnist:512"]
            run(cmd)
            files[mode] = out
        rows = {}
        base_logits = None
        for name, path in files.items():
            g = greenai_logits(args.greenai, path, x_path, os.path.join(wd, f"{arch}_{name}_out"))
            o = ort_session(path, args.threads).run(None, {"input": x})[0]
            if base_logits is None:
                base_logits = g
            rows[name] = {"file": path, "bytes": os.path.getsize(path),
                          "top1": float((g.argmax(1) == labels).mean()),
                          "ort_agreement": float((g.argmax(1) == o.argmax(1)).mean())}
        for name in rows:
            rows[name]["size_ratio"] = rows["fp32"]["bytes"] / rows[name]["bytes"]
            rows[name]["drop_pt"] = 100 * (rows["fp32"]["top1"] - rows[name]["top1"])
        # Latency: one interleaved run; greenai fp32, greenai int8 (QDQ file), ORT on the QDQ file, ORT fp32.
        lat = {}
        for b in (1, 64):
            feeds = {"input": x[:b]}
            sess_q, sess_f = ort_session(files["static"], args.threads), ort_session(fp32, args.threads)
            t = {"greenai_fp32": [], "greenai_int8": [], "ort_int8": [], "ort_fp32": []}
            for _ in range(args.rounds):
                t["greenai_fp32"] += time_greenai(args.tool, fp32, batch_paths[b], args.warmup, args.repeat,
                                                  args.threads, os.path.join(wd, "t_out"))
                t["greenai_int8"] += time_greenai(args.tool, files["static"], batch_paths[b], args.warmup,
                                                  args.repeat, args.threads, os.path.join(wd, "t_out"))
                t["ort_int8"] += time_ort(sess_q, feeds, args.warmup, args.repeat)
                t["ort_fp32"] += time_ort(sess_f, feeds, args.warmup, args.repeat)
            lat[b] = {k: float(np.median(v)) for k, v in t.items()}
            if not args.no_energy:
                for name, key in (("fp32", "greenai_fp32"), ("static", "greenai_int8")):
                    j, method = joules_per_1000(args.greenai, args.tool, files[name], batch_paths[b], b, args.threads,
                                                os.path.join(wd, "measure"), lat[b][key])
                    lat[b][f"j_per_1000_{name}"] = j
                    lat[b]["energy_method"] = method
        results[arch] = {"files": rows, "latency_ms": lat}
        print(f"# {arch}: done", file=sys.stderr, flush=True)

    print(f"\nQuantization benchmark — Fashion-MNIST test set (10,000 images), {args.threads} threads, "
          f"ONNX Runtime {ort.__version__}; latency medians of {args.rounds} interleaved rounds x {args.repeat} runs\n")
    print("| model | variant | bytes | smaller | top-1 % | drop pt | ORT top-1 agreement % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for arch, r in results.items():
        for name, f in r["files"].items():
            print(f"| {arch} | {name} | {f['bytes']} | {f['size_ratio']:.2f}x | {100 * f['top1']:.2f} | "
                  f"{f['drop_pt']:+.2f} | {100 * f['ort_agreement']:.2f} |")
    print("\n| model | batch | greenai fp32 ms | greenai int8 ms | speedup | ORT int8 (same QDQ file) ms | "
          "ORT fp32 ms | J/1000 fp32 | J/1000 int8 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for arch, r in results.items():
        for b, l in r["latency_ms"].items():
            jf = l.get("j_per_1000_fp32")
            jq = l.get("j_per_1000_static")
            print(f"| {arch} | {b} | {l['greenai_fp32']:.3f} | {l['greenai_int8']:.3f} | "
                  f"{l['greenai_fp32'] / l['greenai_int8']:.2f}x | {l['ort_int8']:.3f} | {l['ort_fp32']:.3f} | "
                  f"{'-' if jf is None else f'{jf:.2f}'} | {'-' if jq is None else f'{jq:.2f}'} |")
    if not args.no_energy:
        print("\nJ/1000: joules per 1000 inferences, ESTIMATED on this VM (greenai measure, "
              "method reported: " + str(next(iter(results.values()))["latency_ms"][1].get("energy_method")) + ")")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
