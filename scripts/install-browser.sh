#!/usr/bin/env bash
# Debian's Chromium, for the browser tests (test/browser.ts: the HTML report and the web export
# are opened in headless Chromium). Not part of scripts/setup.sh: adarec itself never needs a
# browser; without one those tests are skipped (CI sets ADAREC_REQUIRE_BROWSER=1 and runs this).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-browser: Chromium is not installed and installing it needs root (no sudo here): as root, run" >&2
    echo "install-browser:   apt-get update && apt-get install -y --no-install-recommends chromium" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get: install Chromium with your package manager, or point ADAREC_CHROMIUM at a Chrome/Chromium binary" >&2
  exit 1
fi
echo "install-browser: installing chromium with ${SUDO:+sudo }apt-get"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
