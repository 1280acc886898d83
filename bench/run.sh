#!/usr/bin/env bash
# `make bench`: speed of greenai against peers on this machine. Receives the build dir as $1.
#   1. greenai vs ONNX Runtime on the project's own models (bench/ort_compare/compare.py):
#      ResNet-18 (batch 1 and 32), a 3-layer MLP (batch 1 and 64), a 4-layer BERT encoder.
#      GREENAI_BENCH_IMAGE (default 224) sets the ResNet input size; GREENAI_BENCH_ROUNDS,
#      GREENAI_BENCH_REPEAT and GREENAI_BENCH_THREADS (default 3, 5, 2) the timing.
#   2. MatMul GFLOP/s against oneDNN's peak (bench_matmul), when that target was built.
set -euo pipefail
BUILD="${1:-build}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmake --build "$BUILD" -j "${JOBS:-2}" --target greenai_ort_bench >/dev/null
python3 -c "import numpy, onnxruntime" 2>/dev/null || bash "$HERE/../scripts/install-deps.sh"

status=0
python3 "$HERE/ort_compare/compare.py" --tool "$BUILD/greenai_ort_bench" \
  --image "${GREENAI_BENCH_IMAGE:-224}" --rounds "${GREENAI_BENCH_ROUNDS:-3}" \
  --repeat "${GREENAI_BENCH_REPEAT:-5}" --threads "${GREENAI_BENCH_THREADS:-2}" \
  --json "$BUILD/bench_ort_compare.json" || status=$?

if [ -x "$BUILD/bench_matmul" ]; then
  echo
  echo "MatMul GFLOP/s (bench_matmul):"
  "$BUILD/bench_matmul" || status=$?
fi
exit $status
