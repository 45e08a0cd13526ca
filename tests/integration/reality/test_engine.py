"""A whole cycle with the LLM stand-in, the CLI's dry run, and the /health and /metrics edge."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from decimal import Decimal

import httpx

from em_reality import serving
from em_reality.scoring import formulas
from tests.integration.reality.conftest import RuntimeFactory, SettingsFactory, serve_demo
from tests.support.llm_standin import LlmStandIn, Reply
from tests.support.news_site import NewsSite


async def test_llm_used_where_the_gate_opens_and_the_budget_allows(
    news_site: NewsSite,
    llm_standin: LlmStandIn,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
) -> None:
    serve_demo(news_site)
    llm_standin.script(Reply.valid(impact_suggestion=0.25, summary="LLM summary."))
    settings = make_settings(
        database_url=database_url,
        llm_base_url=llm_standin.base_url,
        llm_model="standin-1",
        llm_calls_per_hour=1,
    )
    runtime = make_runtime(settings)
    result = await runtime.engine.cycle()

    by_symbol = {event.stocks[0]: event for event in result.events}
    neuronic, cortex, musk = by_symbol["NRNC"], by_symbol["CRTX"], by_symbol["ELON"]
    assert neuronic.llm_mode == "used"
    assert neuronic.summary == "LLM summary."
    (call,) = neuronic.llm_calls
    assert call.outcome == "used" and call.model == "standin-1"
    draft = next(d for d in result.drafts if d.event_id == neuronic.event_id)
    weight = Decimal(str(draft.explanation["event_weight"]["value"]))  # type: ignore[index]
    expected = formulas.impact_points(weight, 0.25, runtime.engine.core._constants)  # type: ignore[attr-defined]
    assert abs(neuronic.impact_points - expected.points) <= Decimal("0.01")
    assert abs(neuronic.quick_score) >= 0.45  # the deterministic score still travels

    assert cortex.llm_mode == "budget_exhausted" and cortex.llm_calls == []
    assert musk.llm_mode == "skipped" and musk.llm_calls == []
    assert len(llm_standin.requests) == 1
    assert llm_standin.requests[0]["response_format"]["type"] == "json_schema"


async def test_invalid_llm_answer_leaves_the_deterministic_score(
    news_site: NewsSite,
    llm_standin: LlmStandIn,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
) -> None:
    serve_demo(news_site, ("neuronic-model-record",))
    llm_standin.script(Reply.invalid())
    settings = make_settings(
        database_url=database_url, llm_base_url=llm_standin.base_url, llm_model="m"
    )
    result = await make_runtime(settings).engine.cycle()

    (event,) = result.events
    (draft,) = result.drafts
    assert event.llm_mode == "fallback"
    assert [c.outcome for c in event.llm_calls] == ["invalid_json"]
    assert str(event.impact_points) == draft.explanation["impact"]["points"]  # type: ignore[index]


async def test_without_an_llm_events_say_disabled(
    news_site: NewsSite,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
) -> None:
    serve_demo(news_site)
    result = await make_runtime(make_settings(database_url=database_url)).engine.cycle()
    assert {event.llm_mode for event in result.events} == {"disabled"}


async def test_cli_dry_run_prints_events_with_their_scores_explained(
    news_site: NewsSite, make_settings: SettingsFactory
) -> None:
    serve_demo(news_site)
    settings = make_settings()
    env = {
        **os.environ,
        "EM_ENV": "test",
        "REALITY_API_SECRET": "x-secret-for-dry-run",
        "BACKEND_URL": news_site.base,
        "SOURCES_FILE": str(settings.sources_file),
        "DATABASE_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    code = "import sys; from em_reality.main import run; sys.exit(run(sys.argv[1:]))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "once", "--dry-run",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "3 events" in text
    assert "quick_score" in text and "event_weight" in text and "impact" in text
    assert "NRNC" in text and "CRTX" in text and "ELON" in text

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "once", "--dry-run", "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert len(lines) == 3
    assert {line["event"]["llm_mode"] for line in lines} == {"disabled"}


async def test_health_and_metrics(
    news_site: NewsSite,
    make_settings: SettingsFactory,
    make_runtime: RuntimeFactory,
    database_url: str,
    nats_url: str,
) -> None:
    serve_demo(news_site)
    news_site.fail("/articles/musk-robot-factory-debut.html", 403)
    runtime = make_runtime(make_settings(database_url=database_url, nats_url=nats_url))
    assert runtime.engine.leader is not None and await runtime.engine.leader.ensure()
    await runtime.engine.cycle()
    assert runtime.engine.relay is not None
    await runtime.engine.relay.drain()
    app = serving.build_app(runtime.engine, runtime.registry, runtime.link)
    http_runner, port = await serving.start(app, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = (await client.get("/health")).json()
            metrics = (await client.get("/metrics")).text
    finally:
        await http_runner.cleanup()

    assert health["status"] == "ok" and health["cycles"] == 1 and health["leader"] is True
    assert health["llm"] == "disabled" and health["outbox_depth"] == 0
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line and not line.startswith("#")
    }
    assert values["reality_articles_fetched_total"] == 3  # feed + 2 pages (one 403)
    assert values["reality_articles_extracted_total"] == 2
    assert values["reality_events_published_total"] == 2
    assert values["reality_outbox_depth"] == 0
    assert values['reality_http_responses_total{kind="status_403"}'] == 1
    assert values['reality_articles_dropped_total{reason="fetch_failed"}'] == 1
    assert values["reality_llm_budget_remaining"] == 0
    assert "reality_cycle_duration_seconds" in values
    assert values["reality_is_leader"] == 1


async def test_cycles_never_overlap_even_when_slower_than_the_interval(
    make_settings: SettingsFactory, make_runtime: RuntimeFactory
) -> None:
    engine = make_runtime(make_settings(poll_interval=1), dry_run=True).engine
    engine.poll_interval = 0.05  # far shorter than one cycle
    running = 0
    overlaps = 0
    spans: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def slow_cycle(*, dry_run: bool = False) -> object:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(0.2)
        spans.append((started, asyncio.get_running_loop().time()))
        running -= 1
        if len(spans) == 4:
            stop.set()
        return None

    engine.cycle = slow_cycle  # type: ignore[method-assign,assignment]
    await asyncio.wait_for(engine.run(stop), 10)

    assert overlaps == 0 and len(spans) == 4
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))
