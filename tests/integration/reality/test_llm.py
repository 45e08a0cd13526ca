"""The LLM runner against the local OpenAI-protocol stand-in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from em_reality import llm
from tests.support.llm_standin import LlmStandIn, Reply

TEXT = "Elon Musk unveiled a humanoid robot that will work on assembly lines next year."

RunnerFactory = Callable[..., llm.LlmRunner]


@pytest.fixture
async def make_runner(llm_standin: LlmStandIn) -> AsyncIterator[RunnerFactory]:
    made: list[llm.LlmRunner] = []

    def factory(per_hour: int = 10, timeout: float = 5.0) -> llm.LlmRunner:
        runner = llm.LlmRunner.create(llm_standin.base_url, "standin-1", "k", per_hour, timeout)
        made.append(runner)
        return runner

    yield factory
    for runner in made:
        await runner.close()


async def test_valid_answer_is_used_and_recorded(
    llm_standin: LlmStandIn, make_runner: RunnerFactory
) -> None:
    llm_standin.script(Reply.valid(impact_suggestion=-0.4, summary="Robot news."))
    outcome = await make_runner().assess(["ELON"], "Robot", TEXT)

    assert outcome.mode == "used"
    assert outcome.assessment is not None
    assert outcome.assessment.impact_suggestion == -0.4
    assert outcome.assessment.summary == "Robot news."
    call = outcome.call
    assert call is not None and call.outcome == "used"
    assert call.model == "standin-1"
    assert len(call.input_hash) == 64
    assert call.output is not None and call.output["impact_suggestion"] == -0.4
    assert call.prompt_tokens > 0 and call.completion_tokens > 0


async def test_the_request_carries_the_json_schema(
    llm_standin: LlmStandIn, make_runner: RunnerFactory
) -> None:
    await make_runner().assess(["ELON", "TECH"], "Robot", TEXT)

    (request,) = llm_standin.requests
    assert request["model"] == "standin-1"
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == llm.ASSESSMENT_SCHEMA
    assert response_format["json_schema"]["schema"]["properties"]["summary"]["maxLength"] == 2000
    assert "ELON, TECH" in request["messages"][-1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply.invalid(),
        Reply.valid(impact_suggestion=3.0),
        Reply.valid(summary="x" * 2001),
        Reply('{"summary": "no other fields"}'),
    ],
    ids=["prose", "out-of-range", "summary-too-long", "missing-fields"],
)
async def test_invalid_answers_fall_back(
    llm_standin: LlmStandIn, make_runner: RunnerFactory, reply: Reply
) -> None:
    llm_standin.script(reply)
    runner = make_runner()
    outcome = await runner.assess(["ELON"], "Robot", TEXT)

    assert outcome.mode == "fallback"
    assert outcome.assessment is None
    assert outcome.call is not None and outcome.call.outcome == "invalid_json"
    assert runner.counters.rejected == {"invalid_json": 1}


async def test_timeout_falls_back(llm_standin: LlmStandIn, make_runner: RunnerFactory) -> None:
    llm_standin.script(Reply.slow(10))
    started = time.monotonic()
    outcome = await make_runner(timeout=0.5).assess(["ELON"], "Robot", TEXT)

    assert time.monotonic() - started < 5
    assert outcome.mode == "fallback"
    assert outcome.call is not None and outcome.call.outcome == "timeout"


async def test_server_error_falls_back(llm_standin: LlmStandIn, make_runner: RunnerFactory) -> None:
    llm_standin.script(Reply.error(500))
    outcome = await make_runner().assess(["ELON"], "Robot", TEXT)

    assert outcome.mode == "fallback"
    assert outcome.call is not None and outcome.call.outcome == "error"
    assert len(llm_standin.requests) == 1  # the client does not retry behind our back


async def test_eleventh_call_within_the_hour_is_refused(
    llm_standin: LlmStandIn, make_runner: RunnerFactory
) -> None:
    runner = make_runner(per_hour=10)
    modes = [(await runner.assess(["ELON"], "Robot", TEXT)).mode for _ in range(11)]

    assert modes == ["used"] * 10 + ["budget_exhausted"]
    assert len(llm_standin.requests) == 10
    assert runner.counters.budget_exhausted == 1
    assert runner.bucket.remaining < 1


async def test_no_endpoint_means_disabled() -> None:
    runner = llm.LlmRunner.create("", "", "", 10, 5)
    outcome = await runner.assess(["ELON"], "Robot", TEXT)

    assert not runner.enabled
    assert outcome == llm.Outcome("disabled")
