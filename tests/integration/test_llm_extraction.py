"""The LLM path on a real server: langmem + init_chat_model + the OpenAI client, over HTTP.

The model is the scripted endpoint in ``tests/llm_endpoint.py`` on 127.0.0.1:
one ``Memory`` tool call per user turn it sees, so every assertion about
which turns reached the model is exact.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client

from sdk_client import (
    AsyncReflectionExecutor,
    ProcessingFailedError,
    ReflectionExecutor,
)
from sdk_client.cli import cli
from sdk_client.contract import memory_text, validate_thread_id
from tests.llm_endpoint import ScriptedEndpoint, user_turns
from tests.schemas import PREFERENCE, USER
from tests.server import (
    QUICK,
    USER_MEMORIES,
    Server,
    llm_server_env,
    quick_executor,
    run_server,
    stored,
    submit_turn,
)

pytestmark = pytest.mark.integration

TURNS = ["I live in Porto.", "I love sardines.", "I work at a shipyard.", "My cat is Bo."]


@pytest.fixture(scope="module")
def llm_server(llm: ScriptedEndpoint) -> Iterator[Server]:
    # Redelivery off: a failed run is the end of its Futures here, and the counts of model
    # calls are exact (test_redelivery.py has the server run failed work again).
    with run_server(llm_server_env(llm, MEMORY_REDELIVERY_ATTEMPTS="0")) as srv:
        yield srv


@pytest.fixture
def executor(llm_server: Server) -> Iterator[ReflectionExecutor]:
    with quick_executor(llm_server.url) as ex:
        yield ex


def behind_a_held_run(ex: ReflectionExecutor, llm, user: str, first: str, burst: list[str]):
    """Submit ``first``, hold its run in the model call, submit ``burst`` behind it, release.

    While a run of the thread is busy no later run of it can start, so each submission of
    the burst supersedes the previous one's pending run however slow the machine is.
    """
    before = llm.calls
    llm.gate.clear()  # hold the model's answer: the first run stays busy in `extract`
    try:
        head = submit_turn(ex, user, first, after=0)
        llm.wait_calls(before + 1, timeout=60)
        futures = [submit_turn(ex, user, turn, after=0.5) for turn in burst]
    finally:
        llm.gate.set()
    ex.flush(timeout=90)
    return head, futures


def test_one_llm_call_per_burst_holding_every_turn(executor, llm):
    # The burst arrives while a run is held by the scripted model's gate, so "one call" does
    # not depend on each turn being accepted within after_seconds of the previous one
    # (tests/integration/test_core.py covers a burst on an idle thread, with that premise timed).
    user = f"llm-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    head, futures = behind_a_held_run(executor, llm, user, "My name is Ana.", TURNS)
    assert len({f.run_id for f in futures}) == len(TURNS)

    assert llm.calls - before == 2, "the held run's call, then one call for the whole burst"
    assert user_turns(llm.requests[-1]) == TURNS
    assert stored(executor, user) == sorted(f"User said: {t}" for t in ["My name is Ana.", *TURNS])
    results = [f.result() for f in futures]
    assert {r.run_id for r in results} == {futures[-1].run_id}
    assert len(results[0].created) == len(TURNS)
    assert head.result().run_id == head.run_id


def test_a_newer_submission_does_not_cancel_a_running_run(executor, llm):
    user = f"running-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    # The second is queued behind the running first; the third supersedes the second only.
    first, (second, third) = behind_a_held_run(
        executor, llm, user, "I live in Tromsø.", ["I love auroras.", "I ski."]
    )

    assert llm.calls - before == 2, "the running run's call counts; one more for the rest"
    assert first.result().run_id == first.run_id
    assert second.result().run_id == third.result().run_id == third.run_id
    assert user_turns(llm.requests[-1]) == ["I love auroras.", "I ski."]
    assert stored(executor, user) == sorted(
        f"User said: {t}" for t in ["I live in Tromsø.", "I love auroras.", "I ski."]
    )


async def test_async_executor_does_not_cancel_a_running_run_either(llm_server, llm):
    user = f"arunning-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    async with AsyncReflectionExecutor(
        "memory_manager", USER_MEMORIES, url=llm_server.url, **QUICK
    ) as ex:

        async def submit_async(turn: str, after: float):
            fut = ex.submit(
                {"messages": [{"role": "user", "content": turn}]},
                {"configurable": {"user_id": user}},
                after_seconds=after,
                thread_id=f"chat-{user}",
            )
            await fut.wait_accepted_async(timeout=30)
            return fut

        llm.gate.clear()
        try:
            first = await submit_async("I live in Tromsø.", 0)
            await asyncio.to_thread(llm.wait_calls, before + 1, 60)
            second = await submit_async("I love auroras.", 0.5)
        finally:
            llm.gate.set()
        await ex.flush(timeout=90)
        assert (await first).run_id == first.run_id
        assert (await second).run_id == second.run_id != first.run_id
    assert llm.calls - before == 2
    assert user_turns(llm.requests[-1]) == ["I love auroras."]


def test_a_running_run_superseded_by_another_client_loses_nothing(executor, llm, llm_server):
    from langgraph_sdk import get_sync_client

    user = f"cancel-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    llm.gate.clear()
    try:
        first = submit_turn(executor, user, "I live in Tromsø.", after=0)
        llm.wait_calls(before + 1, timeout=60)
        with get_sync_client(url=llm_server.url, api_key=None) as sdk:
            newer = sdk.runs.create(  # langmem's executor would do this: rollback, no inbox
                validate_thread_id(f"chat-{user}"),
                "memory_manager",
                input={"messages": [{"role": "user", "content": "I love auroras."}]},
                config={"configurable": {"namespace": ["memories", user]}},
                multitask_strategy="rollback",
            )
    finally:
        llm.gate.set()
    executor.flush(timeout=90)

    assert llm.calls - before == 2  # the cancelled run's call, then the one that counted
    assert first.result().run_id == newer["run_id"]  # the executor followed the newer run
    assert user_turns(llm.requests[-1]) == ["I live in Tromsø.", "I love auroras."]
    assert stored(executor, user) == ["User said: I live in Tromsø.", "User said: I love auroras."]


def test_extraction_failure_is_visible_and_the_next_run_recovers(executor, llm):
    user = f"fail-{uuid.uuid4().hex[:6]}"
    llm.fail_next = 3  # the OpenAI client itself retries a 500 twice
    failed = submit_turn(executor, user, "I live in Bergen.", after=0)
    with pytest.raises(ProcessingFailedError):
        failed.result(timeout=60)
    assert stored(executor, user) == []
    assert executor.status(f"chat-{user}").inbox == 1

    ok = submit_turn(executor, user, "I love fjords.", after=0)
    assert ok.result(timeout=60).run_id == ok.run_id
    assert stored(executor, user) == ["User said: I live in Bergen.", "User said: I love fjords."]


def test_memory_types_per_assistant_collection_inserts_profile_patches(llm_server, llm):
    from langgraph_sdk import get_sync_client

    user = f"types-{uuid.uuid4().hex[:6]}"
    with get_sync_client(url=llm_server.url, api_key=None) as sdk:
        assistant = sdk.assistants.create(
            "memory_manager", context={"schemas": [PREFERENCE, USER]}, name=user
        )
    with quick_executor(llm_server.url, assistant=assistant["assistant_id"]) as ex:
        submit_turn(ex, user, "I love sardines.", after=0)
        ex.flush(timeout=90)
        (profile,) = ex.search(namespace=("memories", user, "User"))
        submit_turn(ex, user, "I moved to Porto.", after=0)
        ex.flush(timeout=90)

        items = ex.search(namespace=("memories", user), limit=20)
        prefs = sorted(
            i["value"]["content"]["item"] for i in items if i["namespace"] == ("memories", user)
        )
        assert prefs == ["User said: I love sardines.", "User said: I moved to Porto."]
        assert {i["value"]["kind"] for i in items if i["namespace"] == ("memories", user)} == {
            "Preference"
        }
        (patched,) = ex.search(namespace=("memories", user, "User"))
        assert patched["key"] == profile["key"]
        assert patched["value"]["content"]["home"] == "User said: I moved to Porto."


def test_a_runs_model_usage_shows_in_its_result_status_and_the_inspector(executor, llm, llm_server):
    user = f"tok-{uuid.uuid4().hex[:6]}"
    # The two turns queue behind a held run, so they are one run however slow the machine.
    before = llm.calls + 1  # the held run's model call comes first
    _, futures = behind_a_held_run(executor, llm, user, TURNS[2], TURNS[:2])
    results = [f.result(timeout=90) for f in futures]
    with llm.arrived:
        reported = [u for u in llm.usage[before:] if u is not None]
    prompt = sum(u["prompt_tokens"] for u in reported)
    completion = sum(u["completion_tokens"] for u in reported)

    # The Future's result: the provider's counts for the run's one model call.
    usage = results[-1].usage
    assert usage is not None and usage.model_calls == len(reported) == 1
    assert (usage.prompt_tokens, usage.completion_tokens) == (prompt, completion)
    assert prompt > 0 and completion > 0 and usage.model_seconds > 0
    assert results[0].usage == usage, "the run's totals, on every submission it processed"

    # `memory-reflect status`: the table's tokens column and --json.
    key = f"chat-{user}"
    status = CliRunner().invoke(cli, ["--url", llm_server.url, "status", "-t", key])
    assert status.exit_code == 0, status.output
    assert f"{prompt}→{completion}" in status.output
    as_json = CliRunner().invoke(cli, ["--url", llm_server.url, "status", "-t", key, "--json"])
    last = json.loads(as_json.output)[0]["last_run"]
    assert last["usage"] == {
        "model_calls": 1,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "model_seconds": usage.model_seconds,
    }

    # The inspector: the REST answers its threads table and timeline read.
    tid = validate_thread_id(key)
    found = httpx.post(
        f"{llm_server.url}/threads/search",
        json={"metadata": {"graph_id": "memory_manager"}, "limit": 100},
    ).json()
    listed = next(t for t in found if t["thread_id"] == tid)
    assert listed["values"]["usage"]["prompt_tokens"] == prompt
    history = httpx.post(f"{llm_server.url}/threads/{tid}/history", json={"limit": 20}).json()
    run_id = results[-1].run_id
    values = next(cp["values"] for cp in history if cp["values"].get("run_id") == run_id)
    assert values["usage"]["completion_tokens"] == completion
    texts = {values["change_text"][p]["after"] for p in values["changes"]["created"]}
    assert texts == {f"User said: {t}" for t in TURNS[:2]}


def test_consolidation_makes_one_model_call_and_its_tokens_are_in_the_threads_state(
    executor, llm, llm_server
):
    user = f"consol-{uuid.uuid4().hex[:6]}"
    namespace = ("memories", user)
    with get_sync_client(url=llm_server.url, api_key=None) as sdk:
        for key, text in [("porto", "User lives in Porto."), ("cat", "User has a cat."),
                          ("lisbon", "User lives in Lisbon.")]:  # fmt: skip
            sdk.store.put_item(namespace, key, {"kind": "Memory", "content": {"content": text}})
    llm.canned.append([("RetireMemories", {"retire": [
        {"key": "porto", "reason": "lisbon is newer"}, {"key": "nope", "reason": "unknown"}]})])  # fmt: skip
    before = llm.calls
    retired = executor.consolidate(namespace=namespace)
    assert retired == [f"memories/{user}/porto"] and llm.calls == before + 1
    reported = llm.usage[-1]
    assert reported is not None
    [change] = [c for c in executor.history(namespace=namespace) if c.cause == "consolidation"]
    assert (
        change.key == "porto"
        and change.reason == "the model (openai:gpt-4.1-mini): lisbon is newer"
    )

    # On view as an extraction's: the run's usage in the consolidation thread's state.
    tid = validate_thread_id(f"memory-reflect:consolidate:memories/{user}")
    values = httpx.get(f"{llm_server.url}/threads/{tid}/state").json()["values"]
    assert values["usage"]["model_calls"] == 1
    assert values["usage"]["prompt_tokens"] == reported["prompt_tokens"]
    assert values["usage"]["completion_tokens"] == reported["completion_tokens"]
    executor.undo(change.id, namespace=namespace)
    assert "User lives in Porto." in {memory_text(i["value"]) for i in executor.search(
        namespace=namespace, limit=10)}  # fmt: skip
