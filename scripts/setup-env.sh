#!/usr/bin/env bash
# Create (or reuse) .venv and install aipcbench into it. Sourced by quick.sh and test.sh.
#
# The venv sees the system's site-packages, so a CUDA build of torch that is already installed
# is used as it is. Only when no torch >= 2.10 is importable do we install one: the version in
# AIPCBENCH_TORCH (default 2.13.0, whose CPU wheel this project's CI machines have on disk).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv --system-site-packages .venv
fi
PY=.venv/bin/python
quiet=(-q --disable-pip-version-check)

if ! "$PY" - <<'PYCODE' 2>/dev/null
import torch
major, minor = (int(x) for x in torch.__version__.split(".")[:2])
raise SystemExit(0 if (major, minor) >= (2, 10) else 1)
PYCODE
then
  echo "setup: installing torch==${AIPCBENCH_TORCH:-2.13.0}" >&2
  "$PY" -m pip install "${quiet[@]}" "torch==${AIPCBENCH_TORCH:-2.13.0}"
fi

# Editable install with the test extras; skipped when nothing changed since the last install.
stamp=.venv/.aipcbench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing aipcbench and its dependencies into .venv" >&2
  "$PY" -m pip install "${quiet[@]}" -e ".[test]" 2> >(grep -v "^WARNING: Location" >&2)
  touch "$stamp"
fi
