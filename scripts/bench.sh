#!/usr/bin/env bash
# Benchmarks (kept out of the test run): timings saved as JSON under .benchmarks/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
exec .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider --benchmark-enable \
  --benchmark-autosave --benchmark-columns=min,median,max,rounds "$@"
