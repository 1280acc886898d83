#!/usr/bin/env bash
# `make demo`: the main job on built-in defaults. Receives the build dir as $1.
# Today (foundation + meter): greenai builds its own model, inspects it, predicts its cost,
# runs it with a per-op profile, and measures the energy and carbon of 200 inferences.
# Training and compression steps join as their issues land.
set -euo pipefail
BUILD="${1:-build}"
G="$BUILD/greenai"
OUT="${GREENAI_DEMO_OUT:-out/demo}"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1/6 greenai writes its own ResNet-18-style model (seeded random weights, 64x64 input; no downloads)"
"$G" zoo resnet18 --image 64 -o "$OUT/resnet18.onnx" --inputs "$OUT/inputs"

step "2/6 what is in it"
"$G" info "$OUT/resnet18.onnx"

step "3/6 predicted cost before running (45 nm per-operation energy table)"
"$G" analyze "$OUT/resnet18.onnx" --hardware horowitz-45nm --top 5

step "4/6 run it on the CPU with a per-op profile (2 threads, 20 runs)"
"$G" run "$OUT/resnet18.onnx" --input "input=$OUT/inputs/input.npy" --threads 2 --repeat 20 --profile \
  --output-dir "$OUT/outputs" | awk "NR<=24"

step "5/6 energy and carbon of 200 inferences (France's grid; estimated where this machine has no sensor)"
"$G" measure --country FRA --units 200 --unit-name inference --interval 0.5 --output-dir "$OUT" -- \
  "$G" run "$OUT/resnet18.onnx" --input "input=$OUT/inputs/input.npy" --threads 2 --repeat 200 >/dev/null

step "6/6 the ONNX backend test suite (Debian's libonnx-testdata)"
"$G" conformance 2>/dev/null | grep -v '^  failed'

printf '\nDone. Files are in %s (model, inputs, outputs/*.npy, emissions.csv in CodeCarbon format).\n' "$OUT"
