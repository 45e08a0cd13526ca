from __future__ import annotations

from nats.aio.client import Client

from em_common import contracts, messaging


async def test_topology_is_created_idempotently(nc: Client) -> None:
    js = nc.jetstream()
    kv = await messaging.ensure_topology(js)
    kv_again = await messaging.ensure_topology(js)
    reality = await js.stream_info("REALITY")
    market = await js.stream_info("MARKET")
    assert reality.config.subjects == [contracts.REALITY_SUBJECT]
    assert sorted(market.config.subjects or []) == ["market.*.book", "market.*.trades"]
    await kv.put("test-probe", b'{"enabled": true}')
    assert (await kv_again.get("test-probe")).value == b'{"enabled": true}'


async def test_same_msg_id_is_stored_once(nc: Client) -> None:
    js = nc.jetstream()
    await messaging.ensure_topology(js)
    before = (await js.stream_info("REALITY")).state.messages
    headers = {"Nats-Msg-Id": "evt-dedupe-test-1"}
    first = await js.publish(contracts.REALITY_SUBJECT, b"{}", headers=headers)
    second = await js.publish(contracts.REALITY_SUBJECT, b"{}", headers=headers)
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq
    after = (await js.stream_info("REALITY")).state.messages
    assert after == before + 1
