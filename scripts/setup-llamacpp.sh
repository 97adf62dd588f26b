#!/usr/bin/env bash
# Optional extra for `aipcbench serve --engine llama.cpp`: build llama.cpp's own llama-server and
# llama-quantize into .venv/llama.cpp/bin, and install llama-cpp-python's bindings against that
# same libllama (for the in-process comparison benchmark), without a second compile.
#
# Source: the llama.cpp tree vendored in llama-cpp-python's sdist on PyPI (the only registry this
# project's machines reach). CPU build tuned for this machine (GGML_NATIVE); CUDA when nvcc is
# found. About 10 minutes on 2 cores; a second call with the same version does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
VERSION="${AIPCBENCH_LLAMA_CPP_PYTHON:-0.3.36}"
prefix="$PWD/.venv/llama.cpp"
stamp="$prefix/VERSION"
if [ -x "$prefix/bin/llama-server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$VERSION" ]; then
  echo "setup-llamacpp: llama.cpp from llama-cpp-python $VERSION is already built in $prefix" >&2
  exit 0
fi
command -v cmake >/dev/null || { echo "setup-llamacpp: cmake is needed (apt-get install cmake)" >&2; exit 2; }
command -v c++ >/dev/null || { echo "setup-llamacpp: a C++ compiler is needed (apt-get install g++)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
echo "setup-llamacpp: downloading the llama-cpp-python $VERSION sdist" >&2
.venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
  "llama-cpp-python==$VERSION" -d "$work" 2> >(grep -v "^WARNING: Location" >&2)
tar xzf "$work"/llama_cpp_python-"$VERSION".tar.gz -C "$work"
src="$work/llama_cpp_python-$VERSION/vendor/llama.cpp"
cuda=OFF
if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1; then cuda=ON; fi
echo "setup-llamacpp: building llama-server and llama-quantize (CUDA $cuda) on $(nproc) cores" >&2
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON -DGGML_CUDA="$cuda" \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN' >"$work/cmake.log" 2>&1 \
  || { tail -20 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" -j"$(nproc)" --target llama-server llama-quantize >"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix"
mkdir -p "$prefix/bin"
cp -a "$work/build/bin/llama-server" "$work/build/bin/llama-quantize" "$work/build/bin/"*.so* "$prefix/bin/"
# The Python bindings without their own build of llama.cpp: they load $prefix/bin/libllama.so
# (LLAMA_CPP_LIB_PATH, set by aipcbench where it uses them).
echo "setup-llamacpp: installing llama-cpp-python's bindings (no second compile)" >&2
CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" .venv/bin/python -m pip install -q --disable-pip-version-check \
  "$work"/llama_cpp_python-"$VERSION".tar.gz 2> >(grep -v "^WARNING: Location" >&2)
echo "$VERSION" >"$stamp"
"$prefix/bin/llama-server" --version 2>&1 | head -1 >&2
echo "setup-llamacpp: done in $(( $(date +%s) - started )) s: $prefix/bin" >&2
