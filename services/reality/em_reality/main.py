"""`em reality`: the Reality Engine's entry point.

em reality [run]               the loop (POLL_INTERVAL), /health and /metrics on 8002
em reality once [--dry-run]    one cycle; --dry-run prints the events it would publish,
                               with their scores explained, and writes nothing
em reality newsroom [...]      the demo newsroom (see em_reality.newsroom)
em reality check-sources [F]   validate a sources file and list its entries
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from em_common import logs, settings
from em_reality import assembly, engine, serving, sources
from em_reality.settings import RealitySettings

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="em reality", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the loop (the default)")
    once = commands.add_parser("once", help="run one cycle")
    once.add_argument("--dry-run", action="store_true", help="print, publish nothing")
    once.add_argument("--json", action="store_true", help="print events as JSON lines")
    commands.add_parser("newsroom", help="serve the demo newsroom", add_help=False)
    check = commands.add_parser("check-sources", help="validate a sources file")
    check.add_argument("file", nargs="?", type=Path)
    return parser


def run(argv: Sequence[str]) -> int:
    args_list = list(argv)
    if args_list[:1] == ["newsroom"]:
        from em_reality.newsroom import server

        return server.run_newsroom(args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command == "check-sources":
        return _check_sources(args.file)
    config = settings.load(RealitySettings)
    logs.configure(config.log_level, service="reality")
    if args.command == "once":
        return asyncio.run(_once(config, dry_run=args.dry_run, as_json=args.json))
    return asyncio.run(_serve(config))


def _check_sources(file: Path | None) -> int:
    path = file or settings.load(RealitySettings).sources_file
    for source in sources.load(path, variables={"NEWSROOM_URL": "http://127.0.0.1:8003"}):
        state = "enabled " if source.enabled else "disabled"
        sys.stdout.write(f"{state} {source.id:<24} {source.kind:<4} {source.entry_url}\n")
    return 0


async def _serve(config: RealitySettings) -> int:
    runtime = assembly.assemble(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = serving.build_app(runtime.engine, runtime.registry, runtime.link)
    http_runner, _ = await serving.start(app, config.reality_host, config.reality_port)
    try:
        await runtime.engine.run(stop)
    finally:
        await http_runner.cleanup()
        await runtime.aclose()
    return 0


async def _once(config: RealitySettings, *, dry_run: bool, as_json: bool) -> int:
    runtime = assembly.assemble(config, dry_run=dry_run)
    try:
        leader = runtime.engine.leader
        if leader is not None and not await leader.ensure():
            sys.stderr.write("another replica holds the leader lock; try --dry-run\n")
            return 1
        result = await runtime.engine.cycle(dry_run=dry_run)
        if not dry_run and runtime.engine.relay is not None:
            await runtime.engine.relay.drain()
    finally:
        await runtime.aclose()
    _print(result, as_json=as_json)
    return 0


def _print(result: engine.CycleResult, *, as_json: bool) -> None:
    out = sys.stdout
    if as_json:
        for event, draft in zip(result.events, result.drafts, strict=True):
            line = {"event": event.model_dump(mode="json"), "explanation": draft.explanation}
            out.write(json.dumps(line, default=str) + "\n")
        return
    stats = result.stats
    out.write(
        f"cycle: {stats.fetched} fetched, {stats.articles} new articles, "
        f"{stats.skipped_seen} already seen, dropped {stats.dropped or '{}'}, "
        f"{stats.duplicates} duplicates, {stats.grouped} grouped, {stats.unmatched} unmatched, "
        f"{stats.events} events ({stats.duration_s:.1f}s)\n"
    )
    for event, draft in zip(result.events, result.drafts, strict=True):
        out.write(
            f"\n{event.event_id}  {','.join(event.stocks)}  impact {event.impact_points:+}  "
            f"quick {event.quick_score:+.4f}  sources {event.num_independent_sources}  "
            f"llm {event.llm_mode}\n  {event.summary[:160]}\n"
        )
        lines = draft.explanation.get("lines")
        for line in lines if isinstance(lines, list) else []:
            out.write(f"  {line}\n")
        for ref in event.sources:
            out.write(f"  source {ref.id} (trust {ref.trust}) {ref.url}\n")
