#!/usr/bin/env bash
# The test suite: set up .venv if needed, lint, then run pytest (GPU-only tests skip by themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
.venv/bin/ruff check aipcbench workloads tests scripts benchmarks
exec .venv/bin/python -m pytest -q "$@"
