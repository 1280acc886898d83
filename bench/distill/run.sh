#!/usr/bin/env bash
# Distillation bar (issue 6): a student with >= 4x fewer parameters than the teacher scores
# higher with distillation than the same student trained alone (same epochs, init and data
# order; 3 seeds). Prints one JSON line per seed and the mean +- sd.
#   bash bench/distill/run.sh build/greenai TEACHER.onnx
# TEACHER: e.g. the cnn from `greenai train --model cnn --data fashion-mnist --epochs 4 --batch 128
# --lr 2e-3 --seed 1 --out cnn.onnx` (92.43 % here).
set -euo pipefail
G="${1:-build/greenai}"
TEACHER="${2:?teacher model}"
OUT="${OUT:-out/distill}"
mkdir -p "$OUT"
: > "$OUT/runs.jsonl"
for s in 1 2 3; do
  GREENAI_NO_PROGRESS=1 "$G" distill --teacher "$TEACHER" --student cnn --widths 4,8 --data fashion-mnist \
    --epochs 5 --limit 10000 --batch 128 --lr 3e-3 --alpha 0.5 --temperature 2 --seed "$s" --threads 1 \
    --baseline --json --out "$OUT/student-$s.onnx" | tee -a "$OUT/runs.jsonl"
done
python3 - "$OUT/runs.jsonl" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
d = [100 * r["accuracy"] for r in rows]; b = [100 * r["baseline_accuracy"] for r in rows]
r0 = rows[0]
print(f"teacher {r0['teacher_params']} params ({100*r0['teacher_accuracy']:.2f} %), student {r0['student_params']} params "
      f"({r0['teacher_params']/r0['student_params']:.1f}x fewer)")
print(f"distilled {st.mean(d):.2f} ± {st.stdev(d):.2f} %   alone {st.mean(b):.2f} ± {st.stdev(b):.2f} %   "
      f"gain per seed {[round(x - y, 2) for x, y in zip(d, b)]} pt")
PY
