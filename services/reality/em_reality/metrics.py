"""Prometheus metrics, read from the engine's own counters at scrape time.

A collector (rather than counters incremented all over the code) keeps one set of numbers:
the same figures the logs and `/health` report. Each engine gets its own registry, so
several engines in one test process do not collide.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from em_reality import engine as engines
from em_reality.fetching import results


class EngineCollector(Collector):
    def __init__(self, engine: engines.Engine, http: results.Counters) -> None:
        self._engine = engine
        self._http = http

    def collect(self) -> Iterator[Metric]:
        totals = self._engine.totals
        yield _counter("reality_articles_fetched", "Feeds and pages fetched", totals.fetched)
        yield _counter("reality_articles_extracted", "Pages with article text", totals.extracted)
        dropped = CounterMetricFamily(
            "reality_articles_dropped", "Articles dropped before scoring", labels=["reason"]
        )
        for reason, count in sorted(totals.dropped.items()):
            dropped.add_metric([reason], count)
        yield dropped
        yield _counter(
            "reality_duplicates", "Syndicated copies folded into a story", totals.duplicates
        )
        yield _counter(
            "reality_events_queued", "Events written to the outbox", totals.events_queued
        )
        yield _counter("reality_cycles", "Completed cycles", totals.cycles)
        yield _counter("reality_cycles_failed", "Cycles that failed", totals.failed_cycles)
        yield GaugeMetricFamily(
            "reality_cycle_duration_seconds", "Duration of the last cycle",
            value=totals.last_cycle_duration_s,
        )  # fmt: skip
        relay = self._engine.relay
        if relay is not None:
            yield _counter("reality_events_published", "Events acked by JetStream",
                           relay.counters.published)  # fmt: skip
            yield _counter("reality_publish_failures", "Outbox drains interrupted",
                           relay.counters.failures)  # fmt: skip
            yield GaugeMetricFamily("reality_outbox_depth", "Events waiting to be published",
                                    value=relay.depth)  # fmt: skip
        runner = self._engine.llm
        yield _counter("reality_llm_calls", "LLM calls made", runner.counters.calls)
        rejected = CounterMetricFamily(
            "reality_llm_rejections", "LLM answers not used", labels=["reason"]
        )
        for reason, count in sorted(runner.counters.rejected.items()):
            rejected.add_metric([reason], count)
        rejected.add_metric(["budget_exhausted"], runner.counters.budget_exhausted)
        yield rejected
        yield GaugeMetricFamily("reality_llm_budget_remaining", "LLM calls left this hour",
                                value=runner.bucket.remaining)  # fmt: skip
        http = CounterMetricFamily(
            "reality_http_responses", "HTTP outcomes when fetching sources", labels=["kind"]
        )
        for kind, count in self._http.as_dict().items():
            http.add_metric([kind], count)
        yield http
        leader = self._engine.leader
        yield GaugeMetricFamily("reality_is_leader", "1 on the replica running cycles",
                                value=1 if leader is None or leader.is_leader else 0)  # fmt: skip


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def registry_for(engine: engines.Engine, http: results.Counters) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine, http))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
