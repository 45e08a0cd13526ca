"""Settlement legs, positions and P&L, plus a property test of the whole money model.

The property test replays random placements, fills and cancels through the same pure
functions the backend uses (requirements before/after, settle, release the difference)
and checks after every step that nothing is created or lost and nothing goes negative.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from em_backend.domain import reservations as r
from em_backend.domain.settlement import Holding, Transfer, reduce, settle, unrealized_pnl


def test_fresh_long_and_fresh_short() -> None:
    s = settle(D("60.00"), 5, Holding(), Holding())
    assert s.buyer == Holding(5, D("300.00"))
    assert s.seller == Holding(-5, D("300.00"))
    assert s.seller.collateral == D("200.00")
    assert s.transfers == (
        Transfer(("buyer", "reserved"), ("seller", "cash"), D("300.00"), "trade"),
        Transfer(("seller", "reserved"), ("seller", "collateral"), D("200.00"), "collateral_post"),
    )
    assert s.taken_from_reserved("seller") == D("200.00")


def test_buyer_covering_a_short_gets_its_collateral_back() -> None:
    short = Holding(-4, D("240.00"))  # sold 4 @ 60: 160 collateral posted
    s = settle(D("70.00"), 3, short, Holding(3, D("150.00")))
    assert s.buyer == Holding(-1, D("60.00"))
    release = [t for t in s.transfers if t.kind == "collateral_release"]
    assert release == [
        Transfer(("buyer", "collateral"), ("buyer", "cash"), D("120.00"), "collateral_release")
    ]
    assert s.buyer.collateral == D("40.00")
    assert s.seller == Holding()  # closed a long: no collateral


def test_cover_and_flip_long_in_one_trade() -> None:
    s = settle(D("55.00"), 5, Holding(-2, D("120.00")), Holding())
    assert s.buyer == Holding(3, D("165.00"))
    assert sum(t.amount for t in s.transfers if t.kind == "collateral_release") == D("80.00")


def test_seller_closing_a_long_then_going_short() -> None:
    s = settle(D("40.00"), 5, Holding(), Holding(2, D("70.00")))
    assert s.seller == Holding(-3, D("120.00"))
    assert s.seller.collateral == D("180.00")


def test_partial_close_keeps_the_basis_exact() -> None:
    rest, removed = reduce(Holding(3, D("150.02")), 1)
    assert removed == D("50.01")
    assert rest == Holding(2, D("100.01"))
    rest, removed = reduce(rest, 2)
    assert (rest, removed) == (Holding(), D("100.01"))
    with pytest.raises(ValueError):
        reduce(Holding(1, D("1")), 2)


def test_pnl_marked_at_the_final_price() -> None:
    assert unrealized_pnl(Holding(10, D("425.00")), D("50.00")) == D("75.00")
    assert unrealized_pnl(Holding(-10, D("600.00")), D("50.00")) == D("100.00")
    assert Holding(3, D("150.02")).avg_cost == D("50.006667")


# --- the money model as a whole --------------------------------------------------------


@dataclass
class Account:
    cash: D
    reserved: D = D("0.00")
    collateral: D = D("0.00")
    holdings: dict[str, Holding] = field(default_factory=dict)


@dataclass
class Market:
    accounts: list[Account]
    orders: dict[int, tuple[int, str, r.Order]] = field(default_factory=dict)
    next_key: int = 1

    def held(self, account: int, symbol: str) -> dict[int, D]:
        orders = [o for a, s, o in self.orders.values() if a == account and s == symbol]
        long_qty = self.accounts[account].holdings.get(symbol, Holding()).quantity
        return r.requirements(orders, long_qty)

    def rebalance(self, account: int, symbol: str, before: D, taken: D) -> None:
        """Release what the orders no longer need (must never be negative)."""
        after = r.total(self.held(account, symbol))
        release = before - after - taken
        assert release >= 0, (before, after, taken)
        acct = self.accounts[account]
        acct.reserved -= release
        acct.cash += release

    def place(self, account: int, symbol: str, side: str, limit: D | None, qty: int) -> int | None:
        before = r.total(self.held(account, symbol))
        key = self.next_key
        self.next_key += 1
        self.orders[key] = (account, symbol, r.Order(key, side, limit, qty))  # type: ignore[arg-type]
        need = r.total(self.held(account, symbol)) - before
        assert need >= 0
        acct = self.accounts[account]
        if need > acct.cash:
            del self.orders[key]
            return None
        acct.cash -= need
        acct.reserved += need
        return key

    def close(self, key: int) -> None:
        account, symbol, order = self.orders[key]
        before = r.total(self.held(account, symbol))
        self.orders[key] = (account, symbol, replace(order, closed=order.closed + order.live))
        self.rebalance(account, symbol, before, D("0.00"))

    def fill(self, buy_key: int, sell_key: int, qty: int, price: D) -> None:
        (b, symbol, buy), (s, _, sell) = self.orders[buy_key], self.orders[sell_key]
        before = {b: r.total(self.held(b, symbol)), s: r.total(self.held(s, symbol))}
        buyer, seller = self.accounts[b], self.accounts[s]
        result = settle(
            price,
            qty,
            buyer.holdings.get(symbol, Holding()),
            seller.holdings.get(symbol, Holding()),
        )
        for t in result.transfers:
            for (role, bucket), sign in ((t.source, -1), (t.target, 1)):
                acct = buyer if role == "buyer" else seller
                setattr(acct, bucket, getattr(acct, bucket) + sign * t.amount)
        buyer.holdings[symbol], seller.holdings[symbol] = result.buyer, result.seller
        self.orders[buy_key] = (b, symbol, replace(buy, filled=buy.filled + qty))
        self.orders[sell_key] = (s, symbol, replace(sell, filled=sell.filled + qty))
        self.rebalance(b, symbol, before[b], result.taken_from_reserved("buyer"))
        self.rebalance(s, symbol, before[s], result.taken_from_reserved("seller"))

    def check(self, total: D) -> None:
        assert sum((a.cash + a.reserved + a.collateral for a in self.accounts), D(0)) == total
        per_symbol: dict[str, int] = defaultdict(int)
        for i, acct in enumerate(self.accounts):
            assert min(acct.cash, acct.reserved, acct.collateral) >= 0
            assert acct.collateral == sum((h.collateral for h in acct.holdings.values()), D("0.00"))
            symbols = {s for a, s, _ in self.orders.values() if a == i}
            assert acct.reserved == sum((r.total(self.held(i, s)) for s in symbols), D("0.00"))
            for symbol, h in acct.holdings.items():
                per_symbol[symbol] += h.quantity
        assert all(q == 0 for q in per_symbol.values())


prices = st.one_of(
    st.sampled_from([D("10.00"), D("50.00"), D("90.00")]),
    st.integers(1, 9999).map(r.from_cents),
)
placements = st.tuples(
    st.just("place"),
    st.integers(0, 2),
    st.sampled_from(["AAA", "AAA", "BBB"]),
    st.sampled_from(["buy", "sell"]),
    st.one_of(st.none(), prices, prices, prices),
    st.integers(1, 12),
    st.sampled_from([True, True, False]),  # rests (GTC) or not (IOC)
)
steps_strategy = st.lists(
    st.one_of(placements, placements, placements, st.tuples(st.just("cancel"), st.integers(0, 99))),
    min_size=20,
    max_size=60,
)


def match(market: Market, key: int) -> int:
    """Cross `key` against resting orders of other accounts at the makers' prices."""
    account, symbol, taker = market.orders[key]
    filled = 0
    while market.orders[key][2].live > 0:
        taker = market.orders[key][2]
        opposite = [
            (k, o)
            for k, (a, s, o) in market.orders.items()
            if s == symbol
            and a != account
            and o.side != taker.side
            and o.live > 0
            and o.limit is not None
        ]
        if taker.side == "buy":
            crossing = [(k, o) for k, o in opposite if o.reserve_price <= taker.reserve_price]
            crossing.sort(key=lambda ko: (ko[1].reserve_price, ko[0]))
        else:
            crossing = [(k, o) for k, o in opposite if o.reserve_price >= taker.reserve_price]
            crossing.sort(key=lambda ko: (-ko[1].reserve_price, ko[0]))
        if not crossing:
            break
        maker_key, maker = crossing[0]
        qty = min(taker.live, maker.live)
        assert maker.limit is not None
        buy, sell = (key, maker_key) if taker.side == "buy" else (maker_key, key)
        market.fill(buy, sell, qty, maker.limit)
        filled += qty
    return filled


@settings(max_examples=150, deadline=None)
@given(steps_strategy)
def test_money_is_conserved_and_never_negative(steps: list[tuple[object, ...]]) -> None:
    market = Market([Account(D("2000.00")) for _ in range(3)])
    total = D("6000.00")
    for step in steps:
        if step[0] == "place":
            _, account, symbol, side, limit, qty, rests = step
            key = market.place(account, symbol, side, limit, qty)  # type: ignore[arg-type]
            if key is not None:
                match(market, key)
                if market.orders[key][2].live and (limit is None or not rests):
                    market.close(key)
        else:
            live = sorted(k for k, (_, _, o) in market.orders.items() if o.live > 0)
            if live:
                market.close(live[int(step[1]) % len(live)])  # type: ignore[call-overload]
        market.check(total)


def test_sell_pool_covers_the_worst_fill_order() -> None:
    """Long 10, then sells of 10 @ 90 and 5 @ 50: if the 90s fill first, the 50s are short."""
    market = Market([Account(D("2000.00")), Account(D("2000.00"))])
    bought = market.place(1, "AAA", "buy", D("40.00"), 10)
    sold = market.place(0, "AAA", "sell", D("40.00"), 10)
    assert bought is not None and sold is not None
    market.fill(bought, sold, 10, D("40.00"))
    high = market.place(1, "AAA", "sell", D("90.00"), 10)
    low = market.place(1, "AAA", "sell", D("50.00"), 5)
    assert high is not None and low is not None
    assert market.held(1, "AAA") == {bought: D("0.00"), high: D("0.00"), low: D("250.00")}
    buyer = market.place(0, "AAA", "buy", D("90.00"), 10)
    assert buyer is not None
    market.fill(buyer, high, 10, D("90.00"))
    market.check(D("4000.00"))
    assert market.held(1, "AAA")[low] == D("250.00")
