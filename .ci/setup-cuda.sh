#!/usr/bin/env bash
# Installs what `cargo build/check --features cuda` needs on a machine with no GPU and no system
# CUDA: NVIDIA's CUDA 13.0 compiler, runtime and headers from PyPI wheels, and link stubs for the
# libraries candle links (cuda, nvrtc, curand, cublas, cublasLt). The stubs only satisfy the
# linker: binaries built this way run their CPU code here and need the real libraries on a GPU.
#
# usage: .ci/setup-cuda.sh [PREFIX]      (default: ~/cuda13); then: source PREFIX/env.sh
# Run `cargo fetch` first: the stubs' symbol lists come from the cudarc sources in the registry.
set -euo pipefail
prefix=${1:-$HOME/cuda13}
version=13.0.2
if [ ! -x "$prefix/nvidia/cu13/bin/nvcc" ]; then
  python3 -m pip install -q --disable-pip-version-check --target "$prefix" \
    "cuda-toolkit[nvcc,cudart,crt,nvvm,cccl]==$version"
fi
home="$prefix/nvidia/cu13"
lib="$home/lib"
stubs="$lib/stubs"
mkdir -p "$stubs"
cudarc=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$cudarc" ]; then
  echo "setup-cuda: no cudarc sources in the cargo registry; run 'cargo fetch' first" >&2
  exit 1
fi
for spec in cuda:libcuda.so.1:driver nvrtc:libnvrtc.so.13:nvrtc curand:libcurand.so.10:curand \
            cublas:libcublas.so.13:cublas cublasLt:libcublasLt.so.13:cublaslt; do
  IFS=: read -r name soname src <<<"$spec"
  grep -ohE 'pub (unsafe )?fn [a-zA-Z0-9_]+' "$cudarc/src/$src/sys/"*.rs 2>/dev/null \
    | awk '{print $NF}' | sort -u | awk '{print "int "$1"(void){return 999;}"}' > "$stubs/$name.c"
  gcc -shared -fPIC -Wl,-soname,"$soname" -o "$stubs/lib$name.so" "$stubs/$name.c"
  ln -sf "lib$name.so" "$stubs/$soname"
done
ln -sf libcudart.so.13 "$lib/libcudart.so"
cat > "$prefix/env.sh" <<ENV
export CUDA_HOME=$home
export PATH=$home/bin:\$PATH
export CUDA_COMPUTE_CAP=\${CUDA_COMPUTE_CAP:-90}
# lets binaries built with --features cuda start here (CPU code only; any CUDA call fails)
export LD_LIBRARY_PATH=$stubs:$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
ENV
echo "setup-cuda: ready; source $prefix/env.sh"
