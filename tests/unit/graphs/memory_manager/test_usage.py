"""Model usage per run: the recorder, the step wrapper, and a run's state and receipts."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult

from graphs.memory_manager.usage import (
    UsageRecorder,
    no_usage,
    recording,
    records_usage,
    tokens_of,
    usage_of,
)
from sdk_client.records import receipts_namespace
from tests.unit.graphs.conftest import FAKE_MODEL

THREAD = "33333333-4444-5555-6666-777777777777"
CONFIG = {"configurable": {"thread_id": THREAD}}


def reply(prompt: int, completion: int, text: str = "ok") -> AIMessage:
    return AIMessage(
        content=text,
        usage_metadata={
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        },
    )


def model(*replies: AIMessage) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies))


def test_tokens_come_from_usage_metadata_summed_over_generations():
    result = LLMResult(
        generations=[
            [ChatGeneration(message=reply(100, 7))],
            [ChatGeneration(message=reply(20, 3))],
        ]
    )
    assert tokens_of(result) == (120, 10)


def test_tokens_fall_back_to_the_raw_token_usage():
    result = LLMResult(
        generations=[[Generation(text="x")]],
        llm_output={"token_usage": {"prompt_tokens": 42, "completion_tokens": 5}},
    )
    assert tokens_of(result) == (42, 5)
    assert tokens_of(LLMResult(generations=[[Generation(text="x")]])) == (0, 0)


def test_a_provider_reporting_nothing_still_counts_calls():
    with recording() as recorder:
        model(AIMessage(content="no usage here")).invoke("hi")
    assert recorder.summary()["model_calls"] == 1
    assert recorder.summary()["prompt_tokens"] == 0


def test_calls_inside_the_block_are_recorded_and_calls_after_it_are_not():
    chat = model(reply(100, 7), reply(50, 3), reply(999, 999))
    with recording() as recorder:
        chat.invoke("one")
        chat.invoke("two")
    chat.invoke("after the block")
    got = recorder.summary()
    assert (got["model_calls"], got["prompt_tokens"], got["completion_tokens"]) == (2, 150, 10)
    assert got["model_seconds"] >= 0.0


def test_a_failed_call_counts_as_a_call_without_tokens():
    recorder = UsageRecorder()
    run_id = uuid4()
    recorder.on_chat_model_start({}, [], run_id=run_id)
    recorder.on_llm_error(RuntimeError("500"), run_id=run_id)
    assert recorder.summary()["model_calls"] == 1
    assert recorder.summary()["prompt_tokens"] == 0


def test_model_seconds_is_the_time_between_start_and_end():
    recorder = UsageRecorder()
    run_id = uuid4()
    recorder.on_llm_start({}, ["p"], run_id=run_id)
    recorder._started[run_id] -= 2.0  # as if the model took two seconds
    recorder.on_llm_end(
        LLMResult(generations=[[ChatGeneration(message=reply(1, 1))]]), run_id=run_id
    )
    assert 2.0 <= recorder.summary()["model_seconds"] < 3.0


async def test_concurrent_runs_each_record_only_their_own_calls():
    # One server process runs many threads' runs at once: their counts must not mix.
    async def run(n: int) -> dict[str, Any]:
        chat = model(*(reply(10, 1) for _ in range(n)))
        with recording() as recorder:
            for _ in range(n):
                await chat.ainvoke("x")
                await asyncio.sleep(0)
        return dict(recorder.summary())

    one, three = await asyncio.gather(run(1), run(3))
    assert (one["model_calls"], one["prompt_tokens"]) == (1, 10)
    assert (three["model_calls"], three["prompt_tokens"]) == (3, 30)


async def test_the_step_wrapper_adds_usage_to_the_update():
    chat = model(reply(12, 4))

    @records_usage
    async def step(state: dict[str, Any], runtime: Any) -> dict[str, Any]:
        """A step."""
        await chat.ainvoke("x")
        return {"ops": []}

    out = await step({}, None)
    assert out["ops"] == [] and out["usage"]["prompt_tokens"] == 12
    assert step.__doc__ == "A step."  # the graph reads the step's signature and hints through


def test_usage_of_a_state_fills_missing_fields_with_zeros():
    assert usage_of({}) == no_usage()
    assert usage_of({"usage": {"model_calls": 2}})["model_calls"] == 2


async def test_an_offline_run_records_zero_model_calls(app, store):
    out = await app.ainvoke({"messages": [{"role": "user", "content": "I love tea."}]}, CONFIG)
    assert out["usage"] == no_usage()


async def test_an_llm_run_records_its_usage_in_state_and_receipts(app, store, fake_model):
    message = AIMessage(
        content="",
        tool_calls=[{"name": "Memory", "args": {"content": "User likes tea."}, "id": "c0"}],
        usage_metadata={"input_tokens": 321, "output_tokens": 17, "total_tokens": 338},
    )
    fake_model(message)
    payload = {"messages": [{"role": "user", "content": "I love tea."}], "submission_id": "s1"}
    out = await app.ainvoke(payload, CONFIG, context={"model": FAKE_MODEL})
    usage = out["usage"]
    assert (usage["model_calls"], usage["prompt_tokens"], usage["completion_tokens"]) == (
        1,
        321,
        17,
    )
    receipt = store.get(receipts_namespace(THREAD), "s1")
    assert receipt is not None and receipt.value["usage"] == usage
