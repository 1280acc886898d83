#!/usr/bin/env bash
# `make demo`: the whole greenai story on built-in defaults, from data to report. Receives the
# build dir as $1. Everything is made here: no downloads, no pre-trained weights.
#   1. train the `cnn` teacher on Fashion-MNIST (short schedule)
#   2. predict its cost (analyze)
#   3. compress it four ways: static int8 (QDQ), structured pruning + fine-tune,
#      low-rank + fine-tune, and a distilled small student
#   4. bench every variant (top-1, latency, joules per inference, gCO2e) into one report
# Budget: <= 20 minutes on 2 cores including the build. Knobs for a longer, better run:
#   GREENAI_DEMO_EPOCHS (teacher epochs), GREENAI_DEMO_LIMIT (training images; default 0 = all 60000).
set -euo pipefail
BUILD="${1:-build}"
G="$BUILD/greenai"
OUT="${GREENAI_DEMO_OUT:-out/demo}"
EPOCHS="${GREENAI_DEMO_EPOCHS:-2}"
LIMIT="${GREENAI_DEMO_LIMIT:-0}"
COUNTRY="${GREENAI_DEMO_COUNTRY:-FRA}"
DATA=fashion-mnist
mkdir -p "$OUT"
START=$(date +%s)
step() { printf '\n== [%s] %s\n' "$(date -u -d @$(( $(date +%s) - START )) +%M:%S)" "$*"; }

step "1/7 train the cnn teacher (VGG-style, BatchNorm) on ${LIMIT/#0/all 60000} Fashion-MNIST images, $EPOCHS epochs"
"$G" train --model cnn --data "$DATA" --epochs "$EPOCHS" --batch 128 --lr 2e-3 --seed 1 --limit "$LIMIT" \
  --out "$OUT/cnn.onnx"

step "2/7 predicted cost per inference before running anything (45 nm per-operation energy table)"
"$G" analyze "$OUT/cnn.onnx" --hardware horowitz-45nm --top 4

step "3/7 static int8 quantization (per-channel weights, 512 calibration images, standard QDQ ONNX)"
"$G" quantize "$OUT/cnn.onnx" -o "$OUT/cnn-int8.onnx" --mode static --calib "$DATA:512"

step "4/7 structured pruning: remove whole channels for >= 50 % fewer FLOPs, then fine-tune 1 epoch"
"$G" prune "$OUT/cnn.onnx" -o "$OUT/cnn-pruned.onnx" --method structured --target-flops 0.5 \
  --finetune-epochs 1 --data "$DATA" --limit "$LIMIT" --lr 1e-3

step "5/7 low-rank factorization (SVD) to >= 40 % fewer FLOPs, then fine-tune 1 epoch"
"$G" lowrank "$OUT/cnn.onnx" -o "$OUT/cnn-lowrank.onnx" --flops-budget 0.6 \
  --finetune-epochs 1 --data "$DATA" --limit "$LIMIT" --lr 1e-3

step "6/7 distill a 4x smaller student (cnn with 4/8 channels) from the teacher (T = 2, alpha = 0.5)"
"$G" distill --teacher "$OUT/cnn.onnx" --student cnn --widths 4,8 --data "$DATA" --epochs "$EPOCHS" \
  --limit "$LIMIT" --lr 3e-3 --alpha 0.5 --temperature 2 --out "$OUT/cnn-student.onnx"

step "7/7 bench all variants: accuracy, latency, joules and gCO2e per inference ($COUNTRY grid)"
"$G" bench "$OUT/cnn.onnx" "$OUT/cnn-int8.onnx" "$OUT/cnn-pruned.onnx" "$OUT/cnn-lowrank.onnx" \
  "$OUT/cnn-student.onnx" --data "$DATA" --window 10 --idle 5 --country "$COUNTRY" \
  --report "$OUT/report" --force

printf '\nDone in %s. Models are in %s; open %s/report/report.html for the chart and the method.\n' \
  "$(date -u -d @$(( $(date +%s) - START )) +%Mmin%Ss)" "$OUT" "$OUT"
