#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: the system libraries the native backend links
# against, then the npm install (which builds the native addon and compiles the TypeScript).
# ADAREC_SKIP_APT=1 leaves the system packages alone (install them yourself, or go on without
# them: adarec then runs on its much slower js backend).
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES="libdnnl-dev libopenblas-dev"
if [ "${ADAREC_SKIP_APT:-0}" != "1" ] && ! dpkg -s $PACKAGES >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO="sudo"
    else
      echo "setup: $PACKAGES (the native backend's GEMM) are not installed, and installing them needs root:" >&2
      echo "setup: this user is not root and there is no sudo. Either run, as root:" >&2
      echo "setup:   apt-get update && apt-get install -y --no-install-recommends $PACKAGES" >&2
      echo "setup: and then this script again, or run it as root, or go on without them (adarec then runs" >&2
      echo "setup: on its much slower js backend): ADAREC_SKIP_APT=1 bash scripts/setup.sh" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $PACKAGES are not installed and there is no apt-get (not Debian or Ubuntu): install oneDNN" >&2
    echo "setup: or OpenBLAS development files with your package manager, then: ADAREC_SKIP_APT=1 bash scripts/setup.sh" >&2
    exit 1
  fi
  echo "setup: installing $PACKAGES (oneDNN GEMM, fallback GEMM) with ${SUDO:+sudo }apt-get"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi
# onnxruntime-node ships its CPU binaries; skip its optional CUDA download (GPU-only, from NuGet)
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
