"""A local server speaking the OpenAI chat-completions protocol, scripted per test.

It answers `POST /v1/chat/completions` with the next scripted reply (valid JSON, invalid
JSON, or a slow answer that outlives the client's timeout) and records every request, so a
test can assert what the engine sent (the JSON schema in `response_format`).

    async with LlmStandIn() as llm:
        llm.script(Reply.valid(...), Reply.invalid())
        ... LLM_BASE_URL = llm.base_url ...
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pytest
from aiohttp import web

from tests.support import aiohttp_serving

DEFAULT_ANSWER: dict[str, Any] = {
    "summary": "Stand-in summary of the article.",
    "impact_suggestion": 0.5,
    "confidence": 0.8,
    "rationale": "The stand-in always finds the news mildly positive.",
}


@dataclass(frozen=True)
class Reply:
    content: str
    delay: float = 0.0
    status: int = 200

    @classmethod
    def valid(cls, **overrides: Any) -> Reply:
        return cls(json.dumps({**DEFAULT_ANSWER, **overrides}))

    @classmethod
    def invalid(cls, text: str = "Sure! The impact is positive, roughly 0.7.") -> Reply:
        return cls(text)

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        return cls(json.dumps(DEFAULT_ANSWER), delay=seconds)

    @classmethod
    def error(cls, status: int = 500) -> Reply:
        return cls("", status=status)


@dataclass
class LlmStandIn:
    host: str = "127.0.0.1"
    default: Reply = field(default_factory=Reply.valid)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _queue: deque[Reply] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests; afterwards `default` answers."""
        self._queue.extend(replies)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner, self._port = await aiohttp_serving.start(app, self.host)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        reply = self._queue.popleft() if self._queue else self.default
        if reply.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), reply.delay)
        if reply.status != 200:
            return web.json_response(
                {"error": {"message": "stand-in error", "type": "server_error"}},
                status=reply.status,
            )
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        return web.json_response(
            {
                "id": f"chatcmpl-standin-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "standin"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(reply.content.split()),
                    "total_tokens": prompt_tokens + len(reply.content.split()),
                },
            }
        )


@pytest.fixture
async def llm_standin() -> AsyncIterator[LlmStandIn]:
    async with LlmStandIn() as server:
        yield server
