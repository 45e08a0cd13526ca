#!/usr/bin/env bash
# Static checks: formatting, lint, strict typing, architecture contracts.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.venv/bin
echo "== ruff"
$B/ruff check .
$B/ruff format --check .
echo "== mypy (strict)"
targets=()
for d in services operator bench tests; do [ -d "$d" ] && targets+=("$d"); done
$B/mypy "${targets[@]}"
echo "== import-linter"
$B/lint-imports
