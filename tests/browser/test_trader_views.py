"""What a trader sees: the markets, signing up, the portfolio, placing an order, errors."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.ui_stack import Market

pytestmark = pytest.mark.browser

DEMO_SYMBOLS = ("ELON", "TECH", "AI_INDEX")
PASSWORD = "correct horse battery"


def log_in(page: Page, market: Market) -> str:
    username = f"ui{uuid.uuid4().hex[:8]}"
    market.register(username, PASSWORD)
    page.goto("/#/login")
    form = page.locator("form", has=page.get_by_role("heading", name="Log in"))
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
    return username


def test_markets_lists_the_demo_symbols_with_prices(
    page: Page, market: Market, screenshots: Path
) -> None:
    page.goto("/")
    for symbol in DEMO_SYMBOLS:
        row = page.locator(f"tr[data-symbol='{symbol}']")
        expect(row.locator("[data-field=final]")).to_have_text("50.00")
        expect(row.locator("[data-field=reality]")).to_have_text("50.00")
    expect(page.locator("tr[data-symbol='AI_INDEX']")).to_contain_text("Index")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.screenshot(path=screenshots / "markets.png", full_page=True)


def test_register_then_portfolio_shows_starting_cash(
    page: Page, market: Market, screenshots: Path
) -> None:
    username = f"ui{uuid.uuid4().hex[:8]}"
    page.goto("/#/login")
    page.screenshot(path=screenshots / "login.png", full_page=True)
    form = page.locator("form", has=page.get_by_role("heading", name="Create an account"))
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("[data-field=cash]")).to_have_text("10,000.00")
    expect(page.locator("[data-field=reserved]")).to_have_text("0.00")
    expect(page.locator("#who")).to_contain_text(username)
    page.screenshot(path=screenshots / "portfolio-new.png", full_page=True)

    page.get_by_role("button", name="Log out").click()
    page.goto("/#/portfolio")
    expect(page.get_by_text("Log in to see your cash")).to_be_visible()


def test_limit_order_rests_in_open_orders_and_reserves_cash(
    page: Page, market: Market, screenshots: Path
) -> None:
    log_in(page, market)
    page.goto("/#/symbol/ELON")
    ticket = page.get_by_role("form", name="Order ticket for ELON")
    ticket.get_by_label("Price (points)").fill("40.00")
    ticket.get_by_label("Quantity").fill("10")
    expect(ticket.locator(".preview")).to_contain_text("400.00")
    ticket.get_by_role("button", name="Buy ELON").click()
    expect(ticket.get_by_role("status")).to_contain_text("open")
    mine = page.get_by_role("region", name="Your open orders")
    expect(mine.locator("tbody tr")).to_have_count(1)
    expect(mine.locator("tbody tr")).to_contain_text("40.00")
    bids = page.locator("table.book-bids")
    expect(bids.locator("tbody tr").first).to_contain_text("40.00")
    page.screenshot(path=screenshots / "symbol.png", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Portfolio").click()
    expect(page.locator("[data-field=reserved]")).to_have_text("400.00")
    expect(page.locator("[data-field=cash]")).to_have_text("9,600.00")
    orders = page.get_by_role("region", name="Open orders")
    expect(orders.locator("tbody tr")).to_have_count(1)
    expect(orders.locator("tbody tr")).to_contain_text("ELON")
    page.screenshot(path=screenshots / "portfolio.png", full_page=True)

    orders.get_by_role("button", name=re.compile("^Cancel buy 10 ELON")).click()
    expect(page.get_by_text("No open orders.")).to_be_visible()
    expect(page.locator("[data-field=cash]")).to_have_text("10,000.00")


def test_a_trade_on_the_orderbook_moves_the_market_price_live(
    page: Page, market: Market, screenshots: Path
) -> None:
    seller = market.register(f"ui{uuid.uuid4().hex[:8]}", PASSWORD)
    market.order(seller, symbol="ELON", side="sell", price="60.00", quantity=2)
    log_in(page, market)
    page.goto("/")
    row = page.locator("tr[data-symbol='ELON']")
    expect(row.locator("[data-field=final]")).to_have_text("50.00")
    page.goto("/#/symbol/ELON")
    expect(page.locator("table.book-asks tbody tr").first).to_contain_text("60.00")
    ticket = page.get_by_role("form", name="Order ticket for ELON")
    ticket.get_by_label("Price (points)").fill("60.00")
    ticket.get_by_label("Quantity").fill("2")
    ticket.get_by_role("button", name="Buy ELON").click()
    expect(ticket.get_by_role("status")).to_contain_text("filled")

    # The trade reached the backend over the MARKET stream: Market 60.00 (its only trade),
    # Final = 0.6 x 60.00 + 0.4 x 50.00 (Reality) = 56.00, on screen without a reload.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Markets").click()
    expect(row.locator("[data-field=final]")).to_have_text("56.00")
    expect(row.locator("[data-field=reality]")).to_have_text("50.00")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Portfolio").click()
    expect(page.locator("[data-field=cash]")).to_have_text("9,880.00")
    expect(page.locator("[data-field=reserved]")).to_have_text("0.00")
    page.screenshot(path=screenshots / "portfolio-after-trade.png", full_page=True)


def test_rejected_order_names_the_field(page: Page, market: Market, screenshots: Path) -> None:
    log_in(page, market)
    page.goto("/#/symbol/TECH")
    ticket = page.get_by_role("form", name="Order ticket for TECH")
    ticket.get_by_label("Price (points)").fill("150")
    ticket.get_by_label("Quantity").fill("5")
    ticket.get_by_role("button", name="Buy TECH").click()
    expect(ticket.get_by_role("alert")).to_contain_text("price")
    expect(ticket.locator("#ticket-price-error")).to_contain_text("price: ")
    expect(ticket.get_by_label("Price (points)")).to_have_attribute("aria-invalid", "true")
    ticket.screenshot(path=screenshots / "ticket-error.png")

    ticket.get_by_label("Price (points)").fill("20")
    ticket.get_by_label("Quantity").fill("abc")
    ticket.get_by_role("button", name="Buy TECH").click()
    expect(ticket.locator("#ticket-quantity-error")).to_contain_text("quantity")
    expect(ticket.get_by_label("Price (points)")).not_to_have_attribute("aria-invalid", "true")


def test_sign_up_error_names_the_field(page: Page, market: Market) -> None:
    page.goto("/#/login")
    form = page.locator("form", has=page.get_by_role("heading", name="Create an account"))
    form.get_by_label("Username").fill("ok_name")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create account").click()
    expect(form.get_by_role("alert")).to_contain_text("password")
    expect(form.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
