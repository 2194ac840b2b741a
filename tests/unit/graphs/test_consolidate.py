"""Consolidation in-process: the plan, the run that applies it, and when it refuses."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.consolidate import Memory, plan_retirements
from graphs.memory_manager.graph import builder
from sdk_client.records import history_namespace, inbox_namespace

CONFIG = {"configurable": {"thread_id": "consolidate-1"}}
CONSOLIDATE = {"messages": [], "consolidate": True}


def _memory(key: str, text: str, at: float, vector: list[float] | None = None) -> Memory:
    return Memory(key, text, at, vector)


def test_the_newest_of_near_duplicates_stays_and_the_bound_retires_the_oldest():
    memories = [
        _memory("a", "User likes tea.", 1.0, [1.0, 0.0]),
        _memory("b", "User loves tea!", 5.0, [0.99, 0.05]),  # near a: newer, so b stays
        _memory("c", "user likes TEA", 3.0),  # a's words, no vector: a twin of a alone
        _memory("d", "User lives in Porto.", 2.0, [0.0, 1.0]),
        _memory("e", "User has a cat.", 4.0, [0.7, -0.7]),
    ]
    retired = plan_retirements(memories, threshold=0.9, max_memories=0)
    assert retired == {"a": "a near-duplicate of b"}  # the older of the two goes
    bounded = plan_retirements(memories, threshold=0.9, max_memories=2)
    assert set(bounded) == {"a", "c", "d"}  # kept: b and e, the most recently updated
    assert "max_memories" in bounded["d"] and "max_memories" in bounded["c"]
    assert plan_retirements(memories, threshold=1.01, max_memories=0) == {
        "a": "a near-duplicate of c"
    }  # only the exact restatement
    assert plan_retirements([], 0.9, 3) == {}


def _app(store: InMemoryStore):
    return builder.compile(store=store, checkpointer=InMemorySaver())


def _put(store: InMemoryStore, key: str, text: str) -> None:
    store.put(("memories",), key, {"kind": "Memory", "content": {"content": text}})


async def test_a_consolidation_run_retires_duplicates_into_history_and_keeps_the_rest():
    store = InMemoryStore()
    _put(store, "old", "User likes green tea.")
    _put(store, "porto", "User lives in Porto.")
    _put(store, "new", "user LIKES green tea")  # the same fact again, written later
    config = {"configurable": {**CONFIG["configurable"], "run_id": "run-c"}}
    out = await _app(store).ainvoke(CONSOLIDATE, config)
    assert out["extractor"] == "consolidation" and out["changes"]["deleted"] == ["memories/old"]
    assert out["run_id"] == "run-c" and out["namespaces"] == [["memories"]]
    assert out["timing"]["started_at"] <= out["timing"]["finished_at"]
    assert sorted(i.key for i in store.search(("memories",))) == ["new", "porto"]
    [entry] = store.search(history_namespace(("memories",)))
    assert entry.value["event"] == "deleted" and entry.value["cause"] == "consolidation"
    assert entry.value["before"]["content"]["content"] == "User likes green tea."


@pytest.mark.parametrize(
    ("context", "pending", "match"),
    [
        ({}, True, "wait in an inbox"),
        ({"max_memories": 1, "consolidation_max_share": 0.5}, False, "more than consolidation"),
    ],
)
async def test_it_changes_nothing_and_says_why_rather_than_overreach(context, pending, match):
    store = InMemoryStore()
    _put(store, "a", "User likes tea.")
    _put(store, "b", "User has a dog.")
    _put(store, "c", "User lives in Oslo.")
    if pending:
        store.put(inbox_namespace("t9"), "s1", {"namespace": ["memories"], "submissions": []})
    before = sorted(i.key for i in store.search(("memories",)))
    with pytest.raises(Exception, match=match):
        await _app(store).ainvoke(CONSOLIDATE, CONFIG, context=context)
    assert sorted(i.key for i in store.search(("memories",))) == before
    assert store.search(history_namespace(("memories",))) == []
