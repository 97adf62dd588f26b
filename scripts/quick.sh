#!/usr/bin/env bash
# The main job: set up .venv if needed, run the quick suite on every detected device, and
# write the results file (results/) and its HTML report (reports/). Extra flags go to `run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
exec .venv/bin/aipcbench run --quick "$@"
