# Everything Market — the few verbs everyone uses. Each is a thin call into scripts/.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: help venv up test lint fmt protos bench cluster-bins cluster

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

venv: ## create/update .venv from the hash-pinned requirements
	@bash scripts/venv.sh

up: venv ## run the whole system locally (PostgreSQL, NATS, services, demo data) on :8000
	@$(PY) -m em_cli.main dev up

test: venv ## everything CI runs: install test prerequisites, lint, then pytest
	@bash scripts/test.sh

lint: venv ## ruff, mypy (strict), import-linter, generated-code freshness
	@bash scripts/lint.sh

fmt: venv ## format the code with ruff
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .

protos: venv ## regenerate the protobuf/gRPC code from protos/
	@bash scripts/protos.sh

bench: venv ## run every benchmark in bench/ (one JSON line each)
	@for b in bench/[a-z]*.py; do echo "# $$b" >&2; $(PY) $$b || exit 1; done

cluster-bins: ## build etcd, kube-apiserver, kube-controller-manager, helm into .cache/cluster/bin
	@bash tools/cluster/build.sh

cluster: venv cluster-bins ## run the local test control plane until Ctrl-C (prints KUBECONFIG)
	@$(PY) -m tests.support.kube_cli
