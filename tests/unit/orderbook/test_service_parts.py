"""Pure pieces of the service: validation, sharding, ids, pressure, event payloads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from em_common import contracts
from em_orderbook import commands, errors, events, ids, pressure, sharding, state
from everything_market.v1 import orderbook_pb2 as pb


def _request(**changes: object) -> pb.PlaceOrderRequest:
    request = pb.PlaceOrderRequest(
        symbol="ELON",
        account_id="42",
        client_order_id="abc-1",
        side=pb.SIDE_SELL,
        type=pb.ORDER_TYPE_LIMIT,
        price_cents=5025,
        quantity=3,
    )
    for field, value in changes.items():
        setattr(request, field, value)
    return request


def test_a_valid_request_becomes_a_place_command() -> None:
    assert commands.place(_request()) == [
        "p",
        "ELON",
        "42",
        "abc-1",
        "sell",
        "limit",
        "gtc",
        5025,
        3,
    ]
    market = _request(type=pb.ORDER_TYPE_MARKET, time_in_force=pb.TIME_IN_FORCE_FOK)
    assert commands.place(market) == ["p", "ELON", "42", "abc-1", "sell", "market", "fok", None, 3]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", "elon"),
        ("account_id", "9223372036854775808"),
        ("client_order_id", "x" * 65),
        ("side", 7),
        ("type", 7),
        ("price_cents", -1),
        ("quantity", -5),
        ("time_in_force", 7),
    ],
)
def test_each_invalid_field_is_named(field: str, value: object) -> None:
    with pytest.raises(errors.InvalidArgument) as err:
        commands.place(_request(**{field: value}))
    assert err.value.field == field and field in str(err.value)


def test_shards_are_stable_and_the_ordinal_comes_from_the_hostname() -> None:
    assert sharding.owner("ELON", 4) == sharding.owner("ELON", 4)
    assert {sharding.owner(f"S{i}", 4) for i in range(100)} == {0, 1, 2, 3}
    assert sharding.resolve_index(None, 3, "orderbook-2") == 2
    assert sharding.resolve_index(None, 1, "laptop") == 0
    assert sharding.resolve_index(1, 3, "orderbook-2") == 1
    with pytest.raises(ValueError, match="ORDERBOOK_SHARD_INDEX"):
        sharding.resolve_index(None, 3, "laptop")
    with pytest.raises(ValueError, match="outside"):
        sharding.resolve_index(None, 2, "orderbook-5")
    shard = sharding.Shard(0, 2)
    foreign = next(s for s in ("AA", "AB", "AC", "AD") if sharding.owner(s, 2) == 1)
    with pytest.raises(errors.WrongShard, match="shard 1 of 2"):
        shard.check(foreign)


def test_ids_carry_shard_and_epoch_and_parse_back() -> None:
    mine = ids.Ids(3, "a1b2c3")
    assert mine.order(17) == "O3-a1b2c3-17" and mine.trade(5) == "T3-a1b2c3-5"
    assert mine.parse_order("O3-a1b2c3-17") == 17
    for foreign in ("O3-ffffff-17", "O2-a1b2c3-17", "O3-a1b2c3-", "O3-a1b2c3-017", "x"):
        assert mine.parse_order(foreign) is None


def test_pressure_windows_and_market_price() -> None:
    stats = pressure.Pressure()
    assert stats.market_price(0, 60, 4000, 4200) == 4100
    assert stats.market_price(0, 60, None, 4200) is None
    stats.record(10_000, 5000, 4, True, 0.25)
    stats.record(70_500, 5400, 2, False, 0.25)
    assert stats.window(71_000, 60) == (0, 2, 1)
    assert stats.window(71_000, 3600) == (4, 2, 2)
    assert stats.market_price(71_000, 60, None, None) == 5100
    assert stats.market_price(200_000, 60, 4000, 4100) == 4050  # no trade in the minute
    assert pressure.net(4, 2) == pytest.approx(1 / 3) and pressure.net(0, 0) == 0.0
    assert pressure.Pressure.load(stats.dump()).dump() == stats.dump()


def test_event_payloads_satisfy_the_shared_contracts() -> None:
    market = state.MarketState(retain=10, alpha=0.25)
    market.apply(1, 1_700_000_000_000, [["p", "ELON", "1", "a", "sell", "limit", "gtc", 5005, 5]])
    out = market.apply(
        2, 1_700_000_000_123, [["p", "ELON", "2", "b", "buy", "limit", "gtc", 5100, 2]]
    )
    messages = events.build(out, ids.Ids(0, "e1"))
    (t_subject, t_id, t_body), (b_subject, b_id, b_body) = messages
    trade = contracts.TradeEvent.model_validate_json(t_body)
    assert t_subject == "market.ELON.trades" and t_id == trade.trade_id == "T0-e1-1"
    assert (trade.price, trade.quantity, trade.seq) == (Decimal("50.05"), 2, 2)
    assert (trade.buy_order_id, trade.sell_order_id) == ("O0-e1-2", "O0-e1-1")
    assert (trade.buy_account_id, trade.sell_account_id) == ("2", "1")
    book = contracts.BookEvent.model_validate_json(b_body)
    assert b_subject == "market.ELON.book" and b_id == "B0-e1-ELON-3"
    assert book.asks == [contracts.BookLevel(price=Decimal("50.05"), quantity=3)]
    assert book.last_price == Decimal("50.05") and book.seq == 3
    assert events.build(out, ids.Ids(0, "e1")) == messages  # rebuilt identically after a restart
