"""The core promise on a real `langgraph dev`: a burst is one run and loses no turn."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import UnprocessableEntityError

from sdk_client import Stage, SubmissionCancelledError
from tests.burst import Burst, assert_only_the_last_run
from tests.server import quick_executor, wait_until

pytestmark = pytest.mark.integration

TURNS = [
    "My name is Dana.",
    "I live in Lisbon.",
    "I love surfing.",
    "I work at Initech.",
    "My dog is called Rex.",
]
EXPECTED = {
    "User's name is Dana.",
    "User lives in Lisbon.",
    "User likes surfing.",
    "User works at Initech.",
    "User's dog is called Rex.",
}


@pytest.fixture
def executor(server):
    ex = quick_executor(server.url)
    yield ex
    ex.shutdown(wait=True)


@pytest.fixture
def sdk(server):
    with get_sync_client(url=server.url, api_key=None) as client:
        yield client


def contents(items) -> set[str]:
    return {i["value"]["content"]["content"] for i in items}


def burst(executor, user: str, thread: str, turns=TURNS, after_seconds=3.0, timing=None):
    """Submit one single-turn submission after another, each accepted before the next.

    ``timing`` (a :class:`Burst`) records whether each was accepted before the previous
    one's run was due, the premise of "one run per burst".
    """
    timing = timing or Burst(after_seconds)
    assert timing.after_seconds == after_seconds
    config = {"configurable": {"user_id": user}}
    return [timing.submit(executor, turn, thread, config) for turn in turns]


def test_burst_is_one_run_and_keeps_every_turn(executor, sdk):
    # On an idle thread nothing can hold the run (the offline extractor has no gate), so
    # the premise is timed and a stalled machine is named as such (tests/burst.py).
    user = f"u-{uuid.uuid4().hex[:8]}"
    timing = Burst(3.0)
    futures = burst(executor, user, f"chat-{user}", timing=timing)
    run_ids = [f.run_id for f in futures]
    assert len(set(run_ids)) == len(TURNS), "each accepted submission created its own run"
    executor.flush(timeout=60)

    thread = futures[0].thread_id
    with timing.outcome():
        assert_only_the_last_run(sdk, thread, run_ids)

    results = [f.result() for f in futures]
    assert {r.run_id for r in results} == {run_ids[-1]}
    assert all(f.stage is Stage.PROCESSED for f in futures)
    assert contents(executor.search(namespace=("memories", user))) == EXPECTED
    assert contents(asyncio.run(executor.asearch(namespace=("memories", user)))) == EXPECTED
    assert len(results[-1].created) == len(EXPECTED)

    state = sdk.threads.get_state(thread)["values"]
    assert [m["content"] for m in state["processed"]] == TURNS
    assert state["submissions"] == [f.submission_id for f in futures]
    assert state["extractor"] == "offline"
    assert state["timing"]["due_at"] <= state["timing"]["started_at"] + 0.5
    assert executor.status(thread).state == "idle"
    assert sdk.store.search_items(["reflection_inbox", thread])["items"] == []


def test_two_threads_do_not_interfere(executor):
    a, b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    timing = Burst(2.0)  # one run per thread needs each burst's premise (tests/burst.py)
    fa = burst(executor, a, f"chat-{a}", ["I live in Oslo.", "I love skiing."], 2.0, timing)
    fb = burst(executor, b, f"chat-{b}", ["I live in Cairo.", "I love chess."], 2.0, timing)
    executor.flush(timeout=60)
    assert contents(executor.search(namespace=("memories", a))) == {
        "User lives in Oslo.",
        "User likes skiing.",
    }
    assert contents(executor.search(namespace=("memories", b))) == {
        "User lives in Cairo.",
        "User likes chess.",
    }
    with timing.outcome():
        assert len({f.result().run_id for f in fa}) == 1
        assert len({f.result().run_id for f in fb}) == 1
    assert fa[0].result().run_id != fb[0].result().run_id


def test_full_history_resends_store_no_duplicates(executor, sdk):
    user = f"h-{uuid.uuid4().hex[:6]}"
    history: list[dict] = []
    futures = []
    for turn in ["I live in Quito.", "I love tea.", "I love tea!"]:
        history = [
            *history,
            {"role": "user", "content": turn},
            {"role": "assistant", "content": "ok"},
        ]
        futures.append(
            executor.submit(
                {"messages": history},
                {"configurable": {"user_id": user}},
                after_seconds=1,
                thread_id=f"chat-{user}",
            )
        )
    executor.flush(timeout=60)
    items = executor.search(namespace=("memories", user))
    assert sorted(contents(items)) == ["User likes tea.", "User lives in Quito."]
    assert len(items) == 2
    state = sdk.threads.get_state(futures[0].thread_id)["values"]
    assert len(state["processed"]) == 4  # three user turns + one distinct "ok"


def test_status_then_cancel_pending_work(executor, sdk):
    user = f"c-{uuid.uuid4().hex[:6]}"
    futures = burst(executor, user, f"chat-{user}", ["I love tea.", "I love jazz."], 60.0)
    thread = futures[0].thread_id
    status = executor.status(f"chat-{user}")
    assert (status.state, status.run_id, status.inbox) == ("pending", futures[-1].run_id, 2)
    assert status.due_at is not None

    assert executor.cancel(f"chat-{user}") == 2
    for fut in futures:
        with pytest.raises(SubmissionCancelledError):
            fut.result(timeout=5)
        assert fut.stage is Stage.CANCELLED
    assert executor.status(thread).state == "idle"
    assert executor.status(thread).inbox == 0
    assert executor.search(namespace=("memories", user)) == []
    assert executor.cancel(f"never-used-{user}") == 0  # no such thread: nothing to cancel


def test_langmem_remote_executor_against_our_graph(server, sdk):
    from langmem import ReflectionExecutor as LangmemExecutor

    ns = ("memories", f"lm-{uuid.uuid4().hex[:6]}")
    lm = LangmemExecutor("memory_manager", ns, url=server.url)
    thread = str(uuid.uuid4())
    lm.submit(
        {"messages": [{"role": "user", "content": "I live in Kyoto."}]},
        config={"configurable": {"thread_id": thread}},
        after_seconds=0,
    ).result(timeout=30)
    found = wait_until(
        lambda: contents(sdk.store.search_items(list(ns))["items"]), 30, what="memory"
    )
    assert found == {"User lives in Kyoto."}
    lm.shutdown()
    lm._client.http.client.close()  # langmem never closes the client it built


def test_bad_input_over_http_fails_clearly_and_server_keeps_serving(executor, sdk):
    thread = str(uuid.uuid4())
    # The server's capture checks the input before the run exists (graphs/server/capture.py).
    with pytest.raises(UnprocessableEntityError, match=r"input\.messages\[0\]\.role"):
        sdk.runs.create(
            thread,
            "memory_manager",
            input={"messages": [{"role": "robot", "content": "x"}]},
            if_not_exists="create",
        )
    user = f"ok-{uuid.uuid4().hex[:6]}"
    burst(executor, user, f"chat-{user}", ["I love tea."], 0)
    executor.flush(timeout=30)
    assert contents(executor.search(namespace=("memories", user))) == {"User likes tea."}


def test_server_logs_the_extractor_once(server, executor):
    user = f"log-{uuid.uuid4().hex[:6]}"
    burst(executor, user, f"chat-{user}", ["I love tea."], 0)
    burst(executor, user, f"chat2-{user}", ["I love jazz."], 0)
    executor.flush(timeout=30)
    assert server.log_text().count("using the offline rule-based extractor") == 1
