#!/usr/bin/env bash
# Regenerate the Python code for protos/ into services/common (the proto path is the import
# path: protos/everything_market/v1/x.proto -> everything_market.v1.x_pb2). Stale files are
# deleted first. Usage: scripts/protos.sh [OUTPUT_ROOT]  (default services/common)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
OUT="${1:-services/common}"
mkdir -p "$OUT/everything_market/v1"
find "$OUT/everything_market" -name '*_pb2*.py*' -delete
mapfile -t PROTOS < <(cd protos && find . -name '*.proto' | sed 's|^\./||' | sort)
"$PY" -m grpc_tools.protoc -I protos \
  --python_out="$OUT" --grpc_python_out="$OUT" \
  --mypy_out="$OUT" --mypy_grpc_out="$OUT" \
  --plugin=protoc-gen-mypy="$(dirname "$PY")/protoc-gen-mypy" \
  --plugin=protoc-gen-mypy_grpc="$(dirname "$PY")/protoc-gen-mypy_grpc" \
  "${PROTOS[@]}"
for d in "$OUT/everything_market" "$OUT/everything_market/v1"; do
  [ -f "$d/__init__.py" ] || printf '"""Generated protobuf code; regenerate with `make protos`."""\n' > "$d/__init__.py"
  touch "$d/py.typed"
done
echo "generated: $(cd "$OUT" && find everything_market -name '*_pb2*' | sort | tr '\n' ' ')"
