#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: the system libraries the native backend links
# against, then the npm install (which builds the native addon and compiles the TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! dpkg -s libdnnl-dev libopenblas-dev >/dev/null 2>&1; then
  echo "setup: installing libdnnl-dev (oneDNN GEMM) and libopenblas-dev (fallback GEMM) with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libdnnl-dev libopenblas-dev >/dev/null
fi
# onnxruntime-node ships its CPU binaries; skip its optional CUDA download (GPU-only, from NuGet)
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
