"""The UI's own arithmetic, run in Chromium on the committed modules (no server needed):
two-decimal formatting, the order ticket's cost/collateral preview, the 24 h baseline,
and how a 422 becomes field names."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from em_backend.web.mount import STATIC_DIR

pytestmark = pytest.mark.browser

ORIGIN = "http://em-ui.test"


def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    name = "index.html" if path == "/" else path.removeprefix("/ui/")
    file = (STATIC_DIR / name).resolve()
    if not file.is_relative_to(STATIC_DIR) or not file.is_file():
        route.fulfill(status=404, body="not found")
        return
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if file.suffix == ".js":
        kind = "text/javascript"
    route.fulfill(status=200, body=file.read_bytes(), headers={"Content-Type": kind})


@pytest.fixture
def modules(browser: Browser) -> Iterator[Page]:
    """A blank page on the UI's origin whose module files come straight from the repo."""
    context = browser.new_context()
    context.route(f"{ORIGIN}/**", _serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/ui/favicon.svg")
    try:
        yield page
    finally:
        context.close()


def run(page: Page, module: str, body: str) -> Any:
    return page.evaluate(f"async () => {{ const m = await import('/ui/js/{module}'); {body} }}")


def test_prices_and_money_show_two_decimals(modules: Page) -> None:
    got = run(
        modules,
        "format.js",
        """return [m.price('55.5'), m.price(7), m.price('99.999'), m.price(null), m.money('10000'),
                  m.money('-882.42'), m.signed('6.25'), m.signed(-300), m.signed('0'),
                  m.toCents('0.1') + m.toCents('0.2'), m.toCents('abc'), m.toCents('12.34'),
                  m.direction('-0.01'), m.percent('0.6')];""",
    )
    assert got == [
        "55.50",
        "7.00",
        "100.00",
        "—",
        "10,000.00",
        "-882.42",
        "+6.25",
        "-3.00",
        "0.00",
        30,
        None,
        1234,
        "down",
        "60%",
    ]


def test_ticket_preview_costs_and_collateral(modules: Page) -> None:
    got = run(
        modules,
        "views/ticket.js",
        """const p = m.preview;
        return [
          p({side: 'buy', type: 'limit', priceCents: 4000, qty: 10, longQty: 0}),
          p({side: 'buy', type: 'market', priceCents: null, qty: 3, longQty: 0}),
          p({side: 'sell', type: 'limit', priceCents: 6000, qty: 8, longQty: 5}),
          p({side: 'sell', type: 'limit', priceCents: 2500, qty: 4, longQty: 0}),
          p({side: 'buy', type: 'limit', priceCents: 10000, qty: 1, longQty: 0}),
          p({side: 'buy', type: 'limit', priceCents: 5000, qty: null, longQty: 0}),
        ];""",
    )
    assert got[0] == {"kind": "buy", "worst": False, "cost": 40_000}
    assert got[1] == {"kind": "buy", "worst": True, "cost": 9_999 * 3}
    # Five come out of the long position, three go short at (100 - 60) each.
    assert got[2] == {
        "kind": "sell",
        "worst": False,
        "fromLong": 5,
        "short": 3,
        "proceeds": 30_000,
        "collateral": 12_000,
    }
    assert got[3]["collateral"] == 4 * 7_500
    assert got[4] is None
    assert got[5] is None


def test_change_is_measured_from_the_price_a_day_ago(modules: Page) -> None:
    got = run(
        modules,
        "views/markets.js",
        """const now = Date.parse('2030-01-02T12:00:00Z'), h = 3600e3;
        return [
          m.baseline(
            [{t: now - 30 * h, v: 41}, {t: now - 25 * h, v: 44}, {t: now - 2 * h, v: 60}],
            '50', now),
          m.baseline([{t: now - 2 * h, v: 60}], '50', now),
          m.baseline([], '50.00', now),
        ];""",
    )
    assert got == [44, 50, 50]


def test_reality_moves_are_read_off_the_history(modules: Page) -> None:
    got = run(
        modules,
        "views/feed.js",
        """const pts = [
          {ts: '2030-01-01T00:00:00Z', reality_score: '50.00', final_price: '50.00'},
          {ts: '2030-01-02T10:00:00Z', reality_score: '53.50', final_price: '53.50'},
          {ts: '2030-01-02T10:05:00Z', reality_score: '53.50', final_price: '52.10'},
          {ts: '2030-01-02T11:00:00Z', reality_score: '52.40', final_price: '52.16'},
        ];
        return m.movesFromHistory('ELON', pts, '50', Date.parse('2030-01-02T00:00:00Z'));""",
    )
    assert [(g["previous"], g["reality"]) for g in got] == [(5000, 5350), (5350, 5240)]


def test_validation_errors_become_field_names(modules: Page) -> None:
    got = run(
        modules,
        "api.js",
        """return m.fieldErrors([
          {loc: ['body', 'price'], msg: 'Input should be less than or equal to 99.99'},
          {loc: ['body', 'components', 0, 'weight'], msg: 'Field required'},
          {loc: ['body'], msg: 'Value error, a limit order needs a price'},
          {loc: ['query', 'range'], msg: "Input should be '1h'"},
        ]);""",
    )
    assert got == [
        {"field": "price", "message": "Input should be less than or equal to 99.99"},
        {"field": "components.0.weight", "message": "Field required"},
        {"field": "", "message": "a limit order needs a price"},
        {"field": "range", "message": "Input should be '1h'"},
    ]


def test_an_event_from_the_api_and_live_messages_is_one_entry(modules: Page) -> None:
    got = run(
        modules,
        "views/events.js",
        """const state = await import('/ui/js/state.js');
        const list = [];
        const item = {
          event_id: 'evt-1', applied_at: '2030-01-02T10:00:00Z', timestamp: '2030-01-02T09:59:00Z',
          summary: 'Launch', reviewed: false, impact_points: '6.25',
          sources: [{id: 'wire', url: 'https://wire.example/1', trust: 0.8}],
          changes: [{symbol: 'ELON', old_score: '50.00', new_score: '56.25', delta: '6.25'}],
        };
        const older = {...item, event_id: 'evt-0', applied_at: '2030-01-02T09:00:00Z', changes: []};
        for (const e of [m.apiEvent(older), m.apiEvent(item)]) {
          state.upsertEvent(list, e.event_id, e.patch, e.changes);
        }
        const live = (symbol, previous, now) => m.liveEvent({
          type: 'reality_update', symbol, previous, reality_score: now, delta: '6.25',
          event_id: 'evt-1', summary: 'Launch', ts: '2030-01-02T10:00:01Z',
        });
        for (const e of [live('ELON', '50.00', '56.25'), live('AI_INDEX', '50.00', '53.13'),
                         live('ELON', '50.00', '56.25')]) {
          state.upsertEvent(list, e.event_id, e.patch, e.changes);
        }
        state.upsertEvent(list, 'evt-1', {sources: [{id: 'wire'}]}, []);  // the audit trail
        return [list.map((e) => e.event_id), list[0].changes.map((c) => c.symbol),
                list[0].sources[0].url, list[0].impact, list[0].status,
                m.safeUrl('javascript:alert(1)'), m.safeUrl('https://a.example/x')];""",
    )
    assert got == [
        ["evt-1", "evt-0"],
        ["ELON", "AI_INDEX"],
        "https://wire.example/1",
        "6.25",
        "applied",
        None,
        "https://a.example/x",
    ]
