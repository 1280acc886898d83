#!/usr/bin/env bash
# Regenerates tests/conformance_baseline.json from a full conformance run.
#
# The baseline only moves up: the run is first checked against the current baseline, and
# if any test that passed there no longer passes, nothing is written (fix the regression
# first). Otherwise the new baseline lists every test passing now. Review the diff and
# commit it by hand:   git diff tests/conformance_baseline.json
#
# Usage: scripts/update-conformance-baseline.sh [BUILD_DIR] [DATA_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
data="${2:-/usr/share/libonnx-testdata/data}"
baseline="$root/tests/conformance_baseline.json"
bin="$build/greenai"
if [[ ! -x "$bin" ]]; then
  echo "update-conformance-baseline: $bin not found (build it first: cmake --build $build --target greenai)" >&2
  exit 2
fi
before=$(grep -c '"test_' "$baseline" || true)
"$bin" conformance "$data" --check-baseline "$baseline" --write-baseline "$baseline"
after=$(grep -c '"test_' "$baseline" || true)
echo "update-conformance-baseline: $before -> $after passing tests recorded in $baseline"
