"""JetStream publish acknowledgements collected on one wildcard inbox, without a task each.

`nats-py`'s `js.publish` awaits one request per message; pipelining needs many messages in
flight and their acks matched back. Each publish gets the reply subject `<inbox>.<token>`;
the single subscription parses the ack and hands `(token, ack | error)` to a plain callback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


class AckError(Exception):
    """JetStream refused a message; `err_code` is its API error code (0 when unknown)."""

    def __init__(self, description: str, err_code: int = 0) -> None:
        super().__init__(description)
        self.err_code = err_code


WRONG_LAST_SEQUENCE = 10071
NO_RESPONDERS = AckError("no stream answers for this subject (503)")


def parse(msg: Msg) -> dict[str, Any] | AckError:
    if msg.headers and msg.headers.get("Status") == "503":
        return NO_RESPONDERS
    try:
        resp = json.loads(msg.data)
    except ValueError:
        return AckError("malformed publish ack")
    error = resp.get("error")
    if error is not None:
        return AckError(str(error.get("description", error)), int(error.get("err_code", 0)))
    if not isinstance(resp, dict):
        return AckError("malformed publish ack")
    return resp


class AckInbox:
    def __init__(self, nc: Client, on_ack: Callable[[str, dict[str, Any] | AckError], None]):
        self._nc = nc
        self._on_ack = on_ack
        self._prefix = nc.new_inbox() + "."
        self._cut = len(self._prefix)
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(self._prefix + "*", cb=self._handle)

    def reply(self, token: str) -> str:
        return self._prefix + token

    async def _handle(self, msg: Msg) -> None:
        self._on_ack(msg.subject[self._cut :], parse(msg))

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
