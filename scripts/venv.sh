#!/usr/bin/env bash
# Create or update .venv from the hash-pinned requirements, then install our code (editable).
# Skips the install when nothing it depends on changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ="${1:-requirements/dev.txt}"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python >= 3.11 is required (found: $("$PYTHON" --version 2>&1 || echo none))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$PYTHON" -m venv .venv
fi
STAMP=.venv/.em-installed
WANT="$(cat "$REQ" pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi
echo "installing pinned dependencies from $REQ into .venv"
start=$(date +%s)
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$REQ"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
# Source roots on sys.path, so packages added later import without a reinstall.
SITE="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for root in services/common services/backend services/orderbook services/reality services/cli operator; do
  echo "$PWD/$root"
done > "$SITE/em-sources.pth"
echo "$WANT" > "$STAMP"
echo ".venv ready in $(( $(date +%s) - start ))s"
