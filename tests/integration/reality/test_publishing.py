"""Cycles against real PostgreSQL and NATS: signed events, the outbox, the seen-set, the lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js import errors as js_errors

from em_cli.devstack import nats_server, ports
from em_common import contracts, messaging, signing
from em_reality import leadership
from tests.integration.reality.conftest import (
    SECRET,
    RuntimeFactory,
    SettingsFactory,
    serve_demo,
)
from tests.support.news_site import NewsSite

Message = tuple[str, bytes, dict[str, str]]


async def _stream_messages(nc: Client) -> list[Message]:
    """Every (msg id, body, headers) in the REALITY stream."""
    js = nc.jetstream()
    info = await js.stream_info("REALITY")
    found: list[Message] = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg("REALITY", seq)
        except js_errors.NotFoundError:
            continue
        headers = dict(raw.headers or {})
        found.append((headers.get("Nats-Msg-Id", ""), raw.data or b"", headers))
    return found


async def _ours(nc: Client, event_ids: set[str]) -> list[Message]:
    return [m for m in await _stream_messages(nc) if m[0] in event_ids]


async def _until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


async def test_events_are_signed_published_once_and_not_republished_after_restart(
    news_site: NewsSite,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
    nats_url: str,
    nc: Client,
) -> None:
    serve_demo(news_site)
    settings = make_settings(database_url=database_url, nats_url=nats_url)
    first = make_runtime(settings)
    assert first.engine.relay is not None and first.engine.store is not None

    result = await first.engine.cycle()
    assert result.stats.queued == len(result.events) >= 3
    assert await first.engine.relay.drain() == len(result.events)
    assert await first.engine.store.depth() == 0

    ids = {event.event_id for event in result.events}
    messages = await _ours(nc, ids)
    assert sorted(m[0] for m in messages) == sorted(ids)
    for msg_id, body, headers in messages:
        signing.verify(body, headers["X-Signature"], [SECRET])
        event = contracts.RealityEvent.model_validate_json(body)
        assert event.event_id == msg_id
        assert body == signing.canonical_json(event.model_dump(mode="json"))

    restarted = make_runtime(settings)  # a new process: empty caches, same database
    again = await restarted.engine.cycle()
    assert again.events == [] and again.stats.skipped_seen == 3
    assert again.stats.articles == 0
    assert len(news_site.hits("/articles/neuronic-model-record.html")) == 1
    assert restarted.engine.relay is not None
    assert await restarted.engine.relay.drain() == 0
    assert len(await _ours(nc, ids)) == len(ids)


@pytest.mark.parametrize("connected_first", [True, False], ids=["connected", "never-connected"])
async def test_nats_down_events_wait_in_the_outbox_then_arrive_exactly_once(
    connected_first: bool,
    tmp_path: Path,
    news_site: NewsSite,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
) -> None:
    serve_demo(news_site)
    port = ports.free_port()
    server = nats_server.NatsServer(tmp_path / "nats", port=port, log_path=tmp_path / "nats.log")
    server.start()
    observer: Client | None = None
    loop: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    try:
        settings = make_settings(database_url=database_url, nats_url=server.url, crawl_delay=0.5)
        runtime = make_runtime(settings)
        engine = runtime.engine
        assert engine.store is not None and engine.relay is not None
        if connected_first:  # publishes then go to nats.py's reconnect buffer, then time out
            assert runtime.link is not None
            await runtime.link.jetstream()

        loop = asyncio.create_task(engine.run(stop))
        await _until(_fetched(news_site, "/feed.xml"), 30, "the cycle to start")
        await asyncio.to_thread(server.stop)  # NATS goes away in the middle of the cycle
        await _until(lambda: _queued(engine), 30, "the cycle to queue events")
        await _until(_failed(engine), 30, "a failed publish")
        depth = await engine.store.depth()
        assert depth >= 3
        assert engine.relay.counters.published == 0

        await asyncio.to_thread(server.start)
        await _until(_drained(engine), 60, "the outbox to drain")
        stop.set()
        await asyncio.wait_for(loop, 30)

        observer = await messaging.connect(server.url, name="observer")
        messages = await _stream_messages(observer)
        assert len(messages) == depth
        assert len({m[0] for m in messages}) == depth  # each event exactly once
        pending = await engine.store.pending()
        assert pending == []
    finally:
        stop.set()
        if loop is not None and not loop.done():
            loop.cancel()
        if observer is not None:
            await observer.drain()
        server.stop()


def _fetched(site: NewsSite, path: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(site.hits(path))

    return check


async def _queued(engine: object) -> bool:
    from em_reality import engine as engines

    assert isinstance(engine, engines.Engine)
    return engine.totals.events_queued > 0


def _failed(engine: object) -> Callable[[], Awaitable[bool]]:
    from em_reality import engine as engines

    assert isinstance(engine, engines.Engine)

    async def check() -> bool:
        assert engine.relay is not None
        return engine.relay.counters.failures > 0

    return check


def _drained(engine: object) -> Callable[[], Awaitable[bool]]:
    from em_reality import engine as engines

    assert isinstance(engine, engines.Engine)

    async def check() -> bool:
        assert engine.store is not None
        return await engine.store.depth() == 0

    return check


async def test_only_one_replica_holds_the_leader_lock(database_url: str) -> None:
    first, second = leadership.LeaderLock(database_url), leadership.LeaderLock(database_url)
    try:
        assert await first.ensure()
        assert not await second.ensure()
        assert await first.ensure()  # still held
        await first.release()
        assert await second.ensure()
        assert not await first.ensure()
    finally:
        await first.release()
        await second.release()


async def test_dry_run_writes_nothing(
    news_site: NewsSite,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
) -> None:
    serve_demo(news_site)
    settings = make_settings(database_url=database_url)
    runtime = make_runtime(settings, dry_run=True)
    assert runtime.link is None and runtime.engine.relay is None
    first = await runtime.engine.cycle(dry_run=True)
    assert len(first.events) >= 3
    assert runtime.engine.store is not None
    assert await runtime.engine.store.depth() == 0

    again = await make_runtime(settings, dry_run=True).engine.cycle(dry_run=True)
    assert again.stats.skipped_seen == 0  # nothing was marked seen
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
