"""The reality feed survives a reload (filled from GET /reality/events), shows why a score
moved (summary, source links, signed impact), and shows each live event exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.ui_stack import Market, reality_event

pytestmark = pytest.mark.browser


def test_past_events_after_a_reload_and_each_live_event_once(
    page: Page, market: Market, screenshots: Path
) -> None:
    summary = "Past news <img src=x onerror=alert(1)> stays text"
    past = market.ingest(reality_event(["ELON"], "3.50", summary, source="wire-past"))
    assert past["status"] == "applied"
    sneaky = reality_event(["TECH"], "0.75", "A sneaky source", source="wire-sneaky")
    sneaky["sources"].append({"id": "evil", "url": "javascript:alert(1)", "trust": 0.1})
    market.ingest(sneaky)

    # A fresh browser: nothing in sessionStorage, so the feed comes from the API.
    page.goto("/#/feed")
    item = page.locator(f"li[data-event-id='{past['event_id']}']")
    expect(item.locator(".feed-summary")).to_have_text(summary)
    expect(item.locator("img")).to_have_count(0)
    link = item.get_by_role("link", name="wire-past")
    expect(link).to_have_attribute("href", "https://wire-past.example/story")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    impact = item.locator(".feed-impact")
    expect(impact).to_have_text("Impact +3.50 ▲")
    expect(impact).to_have_class(re.compile(r"\bchg-up\b"))
    expect(item.locator(".feed-change[data-symbol=ELON]")).to_contain_text("50.00 → 53.50")
    expect(item.locator("time")).not_to_have_text("—")
    sneaky_item = page.locator(f"li[data-event-id='{sneaky['event_id']}']")
    expect(sneaky_item.get_by_role("link", name="wire-sneaky")).to_be_visible()
    expect(sneaky_item).to_contain_text("evil")
    expect(sneaky_item.locator("a[href^='javascript']")).to_have_count(0)

    page.reload()
    expect(item.locator(".feed-summary")).to_have_text(summary)
    expect(page.locator(f"li[data-event-id='{past['event_id']}']")).to_have_count(1)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")

    # ELON is half of AI_INDEX: one event, two reality_update messages, one entry.
    live = market.ingest(reality_event(["ELON"], "-1.25", "Live news", source="wire-live"))
    entry = page.locator(f"li[data-event-id='{live['event_id']}']")
    expect(entry.locator(".feed-change")).to_have_count(2)
    expect(page.locator(f"li[data-event-id='{live['event_id']}']")).to_have_count(1)
    expect(entry.locator(".feed-summary")).to_have_text("Live news")
    expect(entry.locator(".feed-impact")).to_have_text("Impact -1.25 ▼")
    expect(entry.locator(".feed-impact")).to_have_class(re.compile(r"\bchg-down\b"))
    expect(entry.get_by_role("link", name="wire-live")).to_have_attribute(
        "href", "https://wire-live.example/story"
    )
    # Newest first, and the history entry is still there exactly once.
    expect(page.locator("ol.feed > li").first).to_have_attribute("data-event-id", live["event_id"])
    expect(page.locator(f"li[data-event-id='{past['event_id']}']")).to_have_count(1)
    page.screenshot(path=screenshots / "reality-feed.png", full_page=True)

    # Leaving the feed and coming back refills it from the API: still nothing twice.
    page.evaluate("window.__sameDocument = true")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Markets").click()
    expect(page.locator("tr[data-symbol='ELON']")).to_be_visible()
    nav.get_by_role("link", name="Reality feed").click()
    expect(page.locator(f"li[data-event-id='{live['event_id']}']")).to_have_count(1)
    expect(page.locator("ol.feed > li")).to_have_count(3)
    assert page.evaluate("window.__sameDocument") is True


def test_symbol_page_lists_its_events_with_load_more_and_live(page: Page, market: Market) -> None:
    older = [
        market.ingest(reality_event(["TECH"], "0.50", f"Tech story {n}", source=f"wire-{n}"))
        for n in range(12)
    ]
    other = market.ingest(reality_event(["ELON"], "0.50", "Only about ELON"))

    page.goto("/#/symbol/TECH")
    card = page.locator("section.card-events")
    items = card.locator("ol.feed > li")
    expect(items).to_have_count(10)
    expect(items.first).to_have_attribute("data-event-id", older[-1]["event_id"])
    expect(items.first.locator(".feed-summary")).to_have_text("Tech story 11")
    expect(items.first.get_by_role("link", name="wire-11")).to_have_attribute(
        "rel", "noopener noreferrer"
    )
    expect(card.locator(f"li[data-event-id='{other['event_id']}']")).to_have_count(0)

    more = card.get_by_role("button", name="Load more")
    more.click()
    expect(items).to_have_count(12)
    expect(items.last).to_have_attribute("data-event-id", older[0]["event_id"])
    expect(more).to_be_hidden()

    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    # One socket, in order: once the TECH event shows, the ELON one was already handled.
    elsewhere = market.ingest(reality_event(["ELON"], "0.25", "Still only about ELON"))
    live = market.ingest(reality_event(["TECH"], "-0.25", "Tech live story", source="wire-x"))
    expect(items.first).to_have_attribute("data-event-id", live["event_id"])
    expect(items).to_have_count(13)
    expect(items.first.locator(".feed-impact")).to_have_text("Impact -0.25 ▼")
    expect(card.locator(f"li[data-event-id='{elsewhere['event_id']}']")).to_have_count(0)
