"""What changes on screen without a reload: reality events, maintenance, the admin's work."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.ui_stack import ADMIN_KEY, Market, reality_event

pytestmark = pytest.mark.browser


def test_signed_reality_event_moves_the_price_live(
    page: Page, market: Market, screenshots: Path
) -> None:
    page.goto("/")
    row = page.locator("tr[data-symbol='ELON']")
    expect(row.locator("[data-field=final]")).to_have_text("50.00")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.evaluate("window.__sameDocument = true")

    outcome = market.ingest(reality_event(["ELON"], "6.25", "Launch succeeds on first try"))
    assert outcome["status"] == "applied"

    # Never traded: the Final Price is the Reality Score alone.
    expect(row.locator("[data-field=reality]")).to_have_text("56.25")
    expect(row.locator("[data-field=final]")).to_have_text("56.25")
    expect(row.locator("[data-field=change]")).to_contain_text("+6.25")
    # The index follows its component (half ELON): 53.13 or 53.12 depending on rounding.
    expect(page.locator("tr[data-symbol='AI_INDEX'] [data-field=reality]")).not_to_have_text(
        "50.00"
    )
    assert page.evaluate("window.__sameDocument") is True

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reality feed").click()
    item = page.locator(f"li[data-event-id='{outcome['event_id']}']")
    expect(item).to_contain_text("Launch succeeds on first try")
    expect(item).to_contain_text("+6.25")
    page.screenshot(path=screenshots / "feed.png", full_page=True)


def test_maintenance_from_the_control_kv_shows_the_banner(
    page: Page, market: Market, screenshots: Path
) -> None:
    page.goto("/")
    expect(page.locator("tr[data-symbol='ELON'] [data-field=final]")).to_have_text("50.00")
    banner = page.locator("#maintenance-banner")
    expect(banner).to_be_hidden()

    message = "Upgrading the database; back in a few minutes."
    market.control("maintenance", {"enabled": True, "message": message, "until": None})
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(message)
    page.screenshot(path=screenshots / "maintenance.png", full_page=True)

    # A fresh visit during maintenance still gets the page, and the banner, from the 503s.
    page.reload()
    expect(banner).to_contain_text(message)

    market.control("maintenance", {"enabled": False, "message": "", "until": None})
    expect(banner).to_be_hidden()
    expect(page.locator("tr[data-symbol='ELON'] [data-field=final]")).to_have_text("50.00")


def test_announcement_banner(page: Page, market: Market) -> None:
    market.control(
        "announcement",
        {"message": "Maintenance window Sunday 02:00 UTC", "starts_at": "2030-01-05T02:00:00Z"},
    )
    page.goto("/")
    banner = page.locator("#announcement-banner")
    expect(banner).to_contain_text("Maintenance window Sunday 02:00 UTC")
    banner.get_by_role("button", name="Dismiss announcement").click()
    expect(banner).to_be_hidden()


def test_admin_reviews_a_held_event_and_lists_a_symbol(
    page: Page, market: Market, screenshots: Path
) -> None:
    page.goto("/#/admin")
    page.get_by_label("Admin key").fill("wrong-key")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Not accepted")

    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_label("Your name").fill("alice-admin")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("Nothing is waiting for review.")).to_be_visible()

    held = market.ingest(reality_event(["TECH"], "18.00", "Rumour of a giant merger"))
    assert held["status"] == "pending_review"
    item = page.locator(f"li[data-event-id='{held['event_id']}']")
    expect(item).to_contain_text("Rumour of a giant merger")
    page.screenshot(path=screenshots / "admin.png", full_page=True)
    item.get_by_role("button", name="Approve").click()
    expect(item).to_have_count(0)
    audit = page.get_by_role("region", name="Audit trail")
    expect(audit).to_contain_text("alice-admin")

    form = page.locator("form.create-symbol")
    form.get_by_label("Symbol").fill("MOON")
    form.get_by_label("Name").fill("Moon landing")
    form.get_by_label("Market weight").fill("1.5")
    form.get_by_role("button", name="List symbol").click()
    expect(form.get_by_role("alert")).to_contain_text("market_weight")

    form.get_by_label("Market weight").fill("0.7")
    form.get_by_role("button", name="List symbol").click()
    expect(form.get_by_role("status")).to_contain_text("Listed MOON at 50.00")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Markets").click()
    expect(page.locator("tr[data-symbol='TECH'] [data-field=reality]")).to_have_text("68.00")
    expect(page.locator("tr[data-symbol='MOON'] [data-field=final]")).to_have_text("50.00")
