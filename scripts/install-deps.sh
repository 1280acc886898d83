#!/usr/bin/env bash
# Installs everything greenai's build, tests, demo and benchmarks need. Idempotent:
# a machine that already has everything returns in about a second.
#   Debian packages: compilers' libraries, ONNX schema, oneDNN, data sets. oneDNN's CMake
#   config calls find_package(OpenCL REQUIRED) (Debian builds it with the OpenCL GPU runtime),
#   so its recommended ocl-icd-opencl-dev is listed: --no-install-recommends would skip it.
#   PyPI (development-only cross-checks, never needed by the product): onnxruntime, numpy.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake pkg-config git
  libprotobuf-dev protobuf-compiler libonnx-dev
  libdnnl-dev ocl-icd-opencl-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-testdata dataset-fashion-mnist
  chromium
  clang libclang-rt-14-dev
  python3 python3-pip
)
PIP_PACKAGES=(numpy onnxruntime)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=python3
if ! "$PY" -c "import numpy, onnxruntime" >/dev/null 2>&1; then
  echo "install-deps: pip install ${PIP_PACKAGES[*]}"
  "$PY" -m pip install -q "${PIP_PACKAGES[@]}" || "$PY" -m pip install -q --break-system-packages "${PIP_PACKAGES[@]}"
fi
echo "install-deps: all dependencies present"
