"""`em <command>`: one console script for every process and ops command.

Commands import their component lazily, so `em migrate` does not pay for the web stack and a
component that is not built yet is reported plainly instead of crashing the whole CLI.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence

from em_common import errors

# command -> (module, function, one-line help); function(argv) -> exit code
COMMANDS: dict[str, tuple[str, str, str]] = {
    "backend": ("em_backend.main", "run", "HTTP/WS API and web UI (port 8000)"),
    "orderbook": ("em_orderbook.main", "run", "matching engine behind gRPC (50051, HTTP 8001)"),
    "reality": ("em_reality.main", "run", "news-reading Reality Engine (HTTP 8002)"),
    "operator": ("em_operator.main", "run", "Kubernetes operator (kopf)"),
    "migrate": ("em_cli.migrate", "run", "database migrations: upgrade|downgrade|current|heads"),
    "smoke": ("em_cli.smoke", "run", "the runbook's health checks against a running system"),
    "secrets": ("em_cli.secrets", "run", "secrets generate: print fresh random secrets"),
    "snapshot": ("em_cli.snapshot", "run", "snapshot export|import of the market's state"),
    "dev": ("em_cli.devstack.up", "run", "dev up: the whole system locally (make up)"),
}


def available(command: str) -> bool:
    module = COMMANDS[command][0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def usage() -> str:
    lines = ["usage: em <command> [args]", "", "commands:"]
    for name, (_, _, text) in COMMANDS.items():
        mark = "" if available(name) else "  (not built yet)"
        lines.append(f"  {name:<10} {text}{mark}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"em: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if not available(command):
        print(f"em: {command} is not built yet in this version", file=sys.stderr)
        return 3
    module_name, func_name, _ = COMMANDS[command]
    func: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(rest) or 0)
    except errors.ConfigError as exc:
        print(f"em {command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
