#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (a rented one, or the device machine of a session): the CUDA
# tests, then a reference suite (every workload, fp32 and bf16, batch-1 and batched generation)
# whose results file goes to results/reference/ (or $OUT), then the estimator's error on it.
# Budget: about 8 minutes on an H100.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; then
  echo "gpu-reference: no NVIDIA GPU here (nvidia-smi failed); nothing to measure" >&2
  exit 2
fi
source scripts/setup-env.sh
out="${OUT:-results/reference}"
mkdir -p "$out"
echo "== CUDA tests" >&2
.venv/bin/python -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py
echo "== reference suite" >&2
timeout 420 .venv/bin/aipcbench run --devices cuda:0 --dtype fp32,bf16 --results-dir "$out" \
  --no-report --timeout 120 --max-time 4
echo "== the estimator against what was measured (each cell predicted without its own device)" >&2
.venv/bin/aipcbench estimate "$out" --check
