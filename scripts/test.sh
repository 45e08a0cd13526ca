#!/usr/bin/env bash
# `make test`: install what the tests need, lint, then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/prereqs.sh
bash scripts/lint.sh
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
echo "make test finished in $(( $(date +%s) - start ))s (pytest exit $rc)"
exit $rc
