"""The in-process executor: debounce per thread, superseded payloads merged, no turn lost.

Timing runs on a fake clock the test moves, so nothing here sleeps and hopes;
the one exception is langmem's own executor, which has no clock to inject
(that test documents its behaviour, it does not gate ours).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.config import get_store
from langgraph.func import entrypoint
from langgraph.store.memory import InMemoryStore

from sdk_client import (
    ExecutorShutdownError,
    InvalidPayloadTypeError,
    LocalReflectionExecutor,
    ReflectionExecutor,
    SubmissionCancelledError,
)
from tests.fakes import ToolCallingFake

WAIT = 10  # seconds: a generous bound on waits for a condition, never a sleep


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """A runnable that records what each run saw; optionally blocks until released."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[list[str]] = []
        self.started = threading.Event()
        self.gate = gate

    def invoke(self, payload: dict[str, Any], config: Any = None) -> dict[str, Any]:
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(WAIT)
        contents = [m["content"] for m in payload["messages"]]
        self.calls.append(contents)
        return {"run": len(self.calls), "seen": contents}


def turn(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.fixture
def clock():
    return FakeClock()


def test_three_submits_one_and_a_half_seconds_apart_are_one_merged_run(clock):
    """langmem#70's scenario: after_seconds=3, submits 1.5 s apart. One run sees all three."""
    rec = Recorder()
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        futures = []
        for i in range(3):
            if i:
                clock.advance(1.5)
            futures.append(ex.submit(turn(f"turn {i}"), thread_id="chat", after_seconds=3))
        assert ex.pending("chat") == 3 and rec.calls == []  # 3.0 s in, due at 6.0
        clock.advance(3)
        results = [f.result(timeout=WAIT) for f in futures]
    assert rec.calls == [["turn 0", "turn 1", "turn 2"]]
    assert results == [{"run": 1, "seen": ["turn 0", "turn 1", "turn 2"]}] * 3


def test_full_history_resends_are_merged_without_duplicates(clock):
    rec = Recorder()
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        history: list[dict[str, str]] = []
        futures = []
        for text in ["I live in Quito.", "I love tea."]:
            history = [*history, {"role": "user", "content": text}]
            futures.append(ex.submit({"messages": history}, thread_id="t", after_seconds=5))
        clock.advance(5)
        futures[-1].result(timeout=WAIT)
    assert rec.calls == [["I live in Quito.", "I love tea."]]


def test_threads_are_debounced_separately(clock):
    rec = Recorder()
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        a = ex.submit(turn("a"), thread_id="a", after_seconds=1)
        b = ex.submit(turn("b"), thread_id="b", after_seconds=5)
        clock.advance(1)
        assert a.result(timeout=WAIT) == {"run": 1, "seen": ["a"]}
        assert not b.done()
        clock.advance(4)
        assert b.result(timeout=WAIT)["seen"] == ["b"]


def test_a_submission_during_a_run_waits_for_it_and_runs_next(clock):
    gate = threading.Event()
    rec = Recorder(gate)
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        first = ex.submit(turn("one"), thread_id="t")
        assert rec.started.wait(WAIT)
        second = ex.submit(turn("two"), thread_id="t")  # due now, but "one" is running
        gate.set()
        assert first.result(timeout=WAIT)["seen"] == ["one"]
        assert second.result(timeout=WAIT)["seen"] == ["two"]
    assert rec.calls == [["one"], ["two"]]


def test_errors_reach_every_merged_future(clock):
    def boom(payload: dict[str, Any]) -> None:
        raise RuntimeError("model down")

    with LocalReflectionExecutor(RunnableLambda(boom), clock=clock, poll_interval=0.01) as ex:
        futures = [ex.submit(turn(t), thread_id="t", after_seconds=1) for t in "ab"]
        clock.advance(1)
        for fut in futures:
            with pytest.raises(RuntimeError, match="model down"):
                fut.result(timeout=WAIT)


def test_shutdown_runs_pending_work_now_instead_of_losing_it(clock):
    rec = Recorder()
    ex = LocalReflectionExecutor(rec, clock=clock)
    fut = ex.submit(turn("late"), thread_id="t", after_seconds=3600)
    ex.shutdown(wait=True)
    assert fut.result(timeout=0)["seen"] == ["late"]
    with pytest.raises(ExecutorShutdownError):
        ex.submit(turn("x"), thread_id="t")


def test_cancel_and_shutdown_cancel_futures(clock):
    rec = Recorder()
    ex = LocalReflectionExecutor(rec, clock=clock)
    a = ex.submit(turn("a"), thread_id="a", after_seconds=60)
    b = ex.submit(turn("b"), thread_id="b", after_seconds=60)
    assert ex.cancel("a") == 1
    with pytest.raises(SubmissionCancelledError):
        a.result(timeout=0)
    ex.shutdown(wait=True, cancel_futures=True)
    with pytest.raises(SubmissionCancelledError):
        b.result(timeout=0)
    assert rec.calls == []


async def test_futures_are_awaitable(clock):
    with LocalReflectionExecutor(Recorder(), clock=clock) as ex:
        fut = ex.submit(turn("hi"), thread_id="t")
        assert (await fut)["seen"] == ["hi"]


def test_the_store_is_what_get_store_returns_in_the_run(clock):
    store = InMemoryStore()
    seen: list[Any] = []
    reflector = RunnableLambda(lambda payload: seen.append(get_store()))
    with LocalReflectionExecutor(reflector, store=store, clock=clock) as ex:
        ex.submit(turn("hi"), thread_id="t").result(timeout=WAIT)
    assert seen == [store]


def test_a_langmem_memory_manager_runs_once_on_the_merged_conversation(clock):
    from langmem import create_memory_manager

    reply = AIMessage(
        content="",
        tool_calls=[{"name": "Memory", "args": {"content": "User likes tea."}, "id": "c1"}],
    )
    model = ToolCallingFake(messages=iter([reply]))  # one reply: a second run would fail
    manager = create_memory_manager(model)
    with LocalReflectionExecutor(manager, clock=clock, poll_interval=0.01) as ex:
        futures = [
            ex.submit(turn(t), thread_id="t", after_seconds=2) for t in ["Hi.", "I love tea."]
        ]
        clock.advance(2)
        memories = futures[0].result(timeout=WAIT)
    assert futures[1].result() is memories
    assert [m.content.content for m in memories] == ["User likes tea."]


def test_bad_reflector_names_the_field():
    with pytest.raises(InvalidPayloadTypeError, match="reflector: expected a Runnable"):
        LocalReflectionExecutor("memory_manager")
    with pytest.raises(InvalidPayloadTypeError, match="LocalReflectionExecutor"):
        ReflectionExecutor(RunnableLambda(lambda x: x), "memories")  # type: ignore[arg-type]


LANGMEM_FIXED = (
    "langmem fixed this (langmem#70, PR #185): update docs/guides.md ('Why not langmem's "
    "LocalReflectionExecutor') and this test"
)


def test_langmem_local_executor_drops_superseded_turns_and_never_merges():
    """langmem's behaviour the guides cite, asserted as it is, so a fixed langmem is noticed.

    Three submits 1.5 s apart, ``after_seconds=3`` (docs/guides.md): langmem cancels the
    superseded task instead of merging it, so payload 1 is never seen and every execution
    holds one payload. Which of payloads 2 and 3 run depends on a race in its worker
    (with 0.0.30 usually both, separately), so only what holds either way is asserted.
    """
    from langmem import ReflectionExecutor as LangmemExecutor

    rec = Recorder()
    reflector = RunnableLambda(rec.invoke)
    reflector.namespace = ("memories",)  # type: ignore[attr-defined]  # langmem requires one
    lm = LangmemExecutor(reflector, store=InMemoryStore())
    config = {"configurable": {"thread_id": "chat"}}
    futures = []
    pace = threading.Event()  # never set: wait(1.5) is the 1.5 s gap of the scenario
    for i in range(3):
        if i:
            pace.wait(1.5)
        futures.append(lm.submit(turn(f"turn {i}"), config=config, after_seconds=3))
    try:
        futures[-1].result(timeout=WAIT)
    finally:
        lm.shutdown(wait=True)
    assert rec.calls, "langmem ran nothing at all"
    assert all(len(seen) == 1 for seen in rec.calls), LANGMEM_FIXED
    assert ["turn 0"] not in rec.calls, LANGMEM_FIXED
    assert rec.calls[-1] == ["turn 2"]


def test_a_future_cancelled_by_its_caller_is_left_alone(clock):
    rec = Recorder()
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        a = ex.submit(turn("a"), thread_id="t", after_seconds=1)
        b = ex.submit(turn("b"), thread_id="t", after_seconds=1)
        assert a.cancel()
        clock.advance(1)
        assert b.result(timeout=WAIT)["seen"] == ["a", "b"]  # its turn is still processed
        c = ex.submit(turn("c"), thread_id="t", after_seconds=60)
        assert c.cancel()
        assert ex.cancel("t") == 1
    assert a.cancelled() and c.cancelled()


# ------------------------------------------- langmem's executor's own cases, ours
# Written after langmem's public executor tests (tests/test_reflection.py and
# tests/test_reflection_store.py in langchain-ai/langmem): a reflector written for
# langmem, invoke(payload) and payloads of any shape, must work here unchanged.


class LangmemStyleReflector:
    """A reflector as langmem's executor calls it: ``invoke(payload)``, no config."""

    namespace = staticmethod(lambda: ("memories",))

    def __init__(self) -> None:
        self.first_started = threading.Event()
        self.release_first = threading.Event()
        self.calls: list[int] = []

    def invoke(self, payload: dict[str, int]) -> int:
        self.calls.append(payload["id"])
        if payload["id"] == 1:
            self.first_started.set()
            assert self.release_first.wait(WAIT)
        return payload["id"]


def test_a_one_argument_reflector_gets_payloads_of_any_shape(clock):
    """langmem's test_replacing_running_task_does_not_cancel_its_future, on our executor."""
    reflector = LangmemStyleReflector()
    ex = LocalReflectionExecutor(reflector, clock=clock, poll_interval=0.01)
    try:
        first = ex.submit({"id": 1}, {"configurable": {}}, thread_id="same")
        assert reflector.first_started.wait(WAIT)
        second = ex.submit({"id": 2}, {"configurable": {}}, after_seconds=30, thread_id="same")
        reflector.release_first.set()
        assert first.result(timeout=WAIT) == 1
        assert second.cancel()  # still waiting for its quiet period
        assert reflector.calls == [1]
    finally:
        reflector.release_first.set()
        ex.shutdown(cancel_futures=True)


def test_a_newer_payload_without_messages_replaces_the_pending_one(clock):
    reflector = LangmemStyleReflector()
    with LocalReflectionExecutor(reflector, clock=clock, poll_interval=0.01) as ex:
        older = ex.submit({"id": 2}, thread_id="t", after_seconds=5)
        newer = ex.submit({"id": 3}, thread_id="t", after_seconds=5)
        clock.advance(5)
        assert newer.result(timeout=WAIT) == older.result(timeout=WAIT) == 3
    assert reflector.calls == [3]


def test_a_one_argument_reflector_finds_its_config_in_the_context(clock):
    from langgraph.config import get_config

    seen: list[Any] = []

    class Reads:
        def invoke(self, payload: Any) -> None:
            seen.append((get_config()["configurable"]["user_id"], get_store()))

    store = InMemoryStore()
    with LocalReflectionExecutor(Reads(), store=store, clock=clock) as ex:
        config = {"configurable": {"user_id": "alice"}}
        ex.submit("any payload at all", config, thread_id="t").result(timeout=WAIT)
    assert seen == [("alice", store)]


class StoreWriter(Runnable):
    """A Runnable reflector that writes its input with get_store(), as in langmem's tests."""

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if input:
            get_store().put(("memories",), input["key"], input)
        return input


def test_the_calling_graphs_store_reaches_the_reflector_and_is_kept():
    """langmem infers the store from the graph that submits, and keeps it for later."""
    store = InMemoryStore()
    memory = {"key": "preference", "text": "Prefers concise answers"}
    with LocalReflectionExecutor(StoreWriter()) as ex:

        @entrypoint(store=store)
        def remember(payload: dict[str, Any]) -> Any:
            return ex.submit(payload, thread_id=None).result(timeout=WAIT)

        assert remember.invoke(memory) == memory
        later = {"key": "later", "text": "After the graph returned"}
        assert ex.submit(later, {"configurable": {}}, thread_id=None).result(WAIT) == later
    assert store.get(("memories",), "preference").value == memory
    assert store.get(("memories",), "later").value == later


def test_an_explicit_store_wins_over_the_calling_graphs():
    explicit, runtime = InMemoryStore(), InMemoryStore()
    memory = {"key": "preference", "text": "Use the explicitly supplied store"}
    with LocalReflectionExecutor(StoreWriter(), explicit) as ex:  # langmem's call shape

        @entrypoint(store=runtime)
        def remember(payload: dict[str, Any]) -> Any:
            return ex.submit(payload, thread_id=None).result(timeout=WAIT)

        assert remember.invoke(memory) == memory
    assert explicit.get(("memories",), "preference").value == memory
    assert runtime.get(("memories",), "preference") is None


def test_submissions_without_a_thread_run_on_their_own(clock):
    rec = Recorder()
    with LocalReflectionExecutor(rec, clock=clock, poll_interval=0.01) as ex:
        a = ex.submit(turn("a"), {"configurable": {}}, thread_id=None)
        b = ex.submit(turn("b"), {"configurable": {}}, thread_id=None)
        assert a.thread_id != b.thread_id
        assert {a.result(WAIT)["seen"][0], b.result(WAIT)["seen"][0]} == {"a", "b"}


@pytest.mark.parametrize(
    ("reflector", "takes_config"),
    [
        (RunnableLambda(lambda payload: payload), True),
        (LangmemStyleReflector(), False),
        (Recorder(), True),  # invoke(payload, config=None)
        (type("Star", (), {"invoke": lambda self, *args: args})(), True),
    ],
    ids=["runnable", "payload-only", "payload-and-config", "star-args"],
)
def test_the_config_is_passed_when_invoke_takes_one(reflector, takes_config):
    ex = LocalReflectionExecutor(reflector)
    try:
        assert ex._pass_config is takes_config
    finally:
        ex.shutdown()
