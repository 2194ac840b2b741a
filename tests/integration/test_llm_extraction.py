"""The LLM path on a real server: langmem + init_chat_model + the OpenAI client, over HTTP.

The model is the scripted endpoint in ``tests/llm_endpoint.py`` on 127.0.0.1:
one ``Memory`` tool call per user turn it sees, so every assertion about
which turns reached the model is exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sdk_client import ProcessingFailedError, ReflectionExecutor, RetryPolicy
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint, user_turns
from tests.server import Server, run_server

pytestmark = pytest.mark.integration

TURNS = ["I live in Porto.", "I love sardines.", "I work at a shipyard.", "My cat is Bo."]


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedEndpoint]:
    with run_llm_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def llm_server(llm: ScriptedEndpoint) -> Iterator[Server]:
    env = {
        "MEMORY_MODEL": "openai:gpt-4.1-mini",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-secret",
    }
    with run_server(env) as srv:
        yield srv


@pytest.fixture
def executor(llm_server: Server) -> Iterator[ReflectionExecutor]:
    with ReflectionExecutor(
        "memory_manager",
        ("memories", "{user_id}"),
        url=llm_server.url,
        poll_interval=0.2,
        retry=RetryPolicy(initial_delay=0.05),
    ) as ex:
        yield ex


def submit(ex: ReflectionExecutor, user: str, turn: str, after: float):
    fut = ex.submit(
        {"messages": [{"role": "user", "content": turn}]},
        {"configurable": {"user_id": user}},
        after_seconds=after,
        thread_id=f"chat-{user}",
    )
    fut.wait_accepted(timeout=30)
    return fut


def stored(ex: ReflectionExecutor, user: str) -> list[str]:
    return sorted(
        i["value"]["content"]["content"] for i in ex.search(namespace=("memories", user), limit=50)
    )


def test_one_llm_call_per_burst_holding_every_turn(executor, llm):
    user = f"llm-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    futures = [submit(executor, user, turn, after=2.0) for turn in TURNS]
    assert len({f.run_id for f in futures}) == len(TURNS)
    executor.flush(timeout=90)

    assert llm.calls - before == 1, "one chat-completion call for the whole burst"
    assert user_turns(llm.requests[-1]) == TURNS
    assert stored(executor, user) == sorted(f"User said: {t}" for t in TURNS)
    results = [f.result() for f in futures]
    assert {r.run_id for r in results} == {futures[-1].run_id}
    assert len(results[0].created) == len(TURNS)


def test_run_cancelled_while_running_loses_nothing(executor, llm):
    user = f"cancel-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    llm.gate.clear()  # hold the model's answer: the first run stays busy in `extract`
    try:
        first = submit(executor, user, "I live in Tromsø.", after=0)
        llm.wait_calls(before + 1, timeout=60)
        second = submit(executor, user, "I love auroras.", after=0.5)  # rolls back the running run
    finally:
        llm.gate.set()
    executor.flush(timeout=90)

    assert first.run_id != second.run_id
    assert llm.calls - before == 2  # the cancelled run's call, then the one that counted
    assert first.result().run_id == second.result().run_id == second.run_id
    assert user_turns(llm.requests[-1]) == ["I live in Tromsø.", "I love auroras."]
    assert stored(executor, user) == ["User said: I live in Tromsø.", "User said: I love auroras."]


def test_extraction_failure_is_visible_and_the_next_run_recovers(executor, llm):
    user = f"fail-{uuid.uuid4().hex[:6]}"
    llm.fail_next = 3  # the OpenAI client itself retries a 500 twice
    failed = submit(executor, user, "I live in Bergen.", after=0)
    with pytest.raises(ProcessingFailedError):
        failed.result(timeout=60)
    assert stored(executor, user) == []
    assert executor.status(f"chat-{user}").inbox == 1

    ok = submit(executor, user, "I love fjords.", after=0)
    assert ok.result(timeout=60).run_id == ok.run_id
    assert stored(executor, user) == ["User said: I live in Bergen.", "User said: I love fjords."]
