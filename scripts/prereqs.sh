#!/usr/bin/env bash
# Test prerequisites beyond .venv: Debian's Chromium (browser tests) and the local
# Kubernetes control plane binaries (operator tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium (browser tests)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || { echo "error: apt-get install chromium failed" >&2; exit 1; }
  else
    echo "warning: /usr/bin/chromium is missing and this is not root: install Debian's" \
         "'chromium' package to run the browser tests" >&2
  fi
fi
if [ -f tools/cluster/build.sh ]; then
  bash tools/cluster/build.sh
fi
