"""Consolidation in-process: the plan, the run that applies it, and when it refuses."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.consolidate import Memory, plan_retirements
from graphs.memory_manager.graph import builder
from graphs.memory_manager.offline.slots import Slot, first_person, memory_slot
from sdk_client.records import history_namespace, inbox_namespace

CONFIG = {"configurable": {"thread_id": "consolidate-1"}}
CONSOLIDATE = {"messages": [], "consolidate": True}


def _memory(key: str, text: str, at: float, vector: list[float] | None = None) -> Memory:
    return Memory(key, text, at, vector)


def test_the_newest_of_near_duplicates_stays_and_the_bound_retires_the_oldest():
    memories = [
        _memory("a", "User keeps bees.", 1.0, [1.0, 0.0]),
        _memory("b", "User keeps honey bees!", 5.0, [0.99, 0.05]),  # near a: newer, so b stays
        _memory("c", "user keeps BEES", 3.0),  # a's words, no vector: a twin of a alone
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


def test_the_newer_value_of_an_attribute_retires_the_older_never_both():
    memories = [
        _memory("porto", "User lives in Porto.", 1.0),
        _memory("lisbon", "The user lives in Lisbon", 3.0),  # newer: it stays
        _memory("ana", "User's name is Ana.", 2.0),
        _memory("jo", "User goes by Jo.", 4.0),
        _memory("tea", "User likes tea.", 1.0),
        _memory("no-tea", "User dislikes tea.", 2.0),
        _memory("loves-tea", "User loves tea!", 0.5),  # the same value as "likes": a restatement
        _memory("cat", "User's cat is called Miso.", 1.0),
        _memory("tabby", "User's cat is a tabby.", 2.0),  # two facts about one cat, both stay
        _memory("both", "User lives in Faro and works at a bakery.", 0.1),  # two facts: stays
    ]
    retired = plan_retirements(memories, threshold=0.9, max_memories=0)
    assert set(retired) == {"porto", "ana", "tea", "loves-tea"}
    assert retired["porto"] == "contradicted by the newer lisbon (home: 'The user lives in Lisbon')"
    assert retired["ana"].startswith("contradicted by the newer jo (name")
    assert retired["tea"].startswith("contradicted by the newer no-tea (taste:tea")
    assert (
        retired["loves-tea"] == "contradicted by the newer no-tea (taste:tea: 'User dislikes tea.')"
    )
    # Equal timestamps: the key breaks the tie, so one of the two stays whatever the order.
    tie = [_memory("x", "User is 30 years old.", 1.0), _memory("y", "User is 31.", 1.0)]
    assert (
        plan_retirements(tie, 0.9, 0)
        == plan_retirements(tie[::-1], 0.9, 0)
        == {"x": "contradicted by the newer y (age: 'User is 31.')"}
    )


def test_the_same_value_in_other_words_is_a_duplicate_not_a_contradiction():
    memories = [_memory("a", "User is 34 years old.", 1.0), _memory("b", "User is 34.", 2.0)]
    assert plan_retirements(memories, 0.99, 0) == {"a": "a near-duplicate of b (the same age)"}


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("User lives in Porto.", "home"),
        ("The user lives in a small flat in Ghent", "home"),
        ("User moved to Berlin.", "home"),
        ("User's name is Alice.", "name"),
        ("User goes by Jo.", "name"),
        ("User is 30 years old.", "age"),
        ("User is in their thirties.", "age"),
        ("User works at a bakery.", "work"),
        ("User's employer is Google.", "work"),
        ("User is a nurse.", "job"),
        ("User works as a nurse.", "job"),
        ("User was promoted to senior architect.", "job"),
        ("User's favorite color is green", "my favourite colour"),
        ("User's preferred name is Sam.", "my preferred name"),
        ("User drives a Kia Niro.", "car"),
        ("User is married to Sam.", "relationship"),
        ("User has a boyfriend.", "relationship"),
        ("User studies law.", "study"),
        ("User was born in Lyon.", "birthplace"),
        ("User dislikes tea.", "taste:tea"),
        # No single-valued attribute of the user: never retired as contradicted.
        ("User has a cat called Miso.", None),
        ("User's cat is called Miso.", None),
        ("User's sister is a nurse.", None),
        ("User speaks Basque and Italian.", None),
        ("User never eats pork.", None),
        ("User lives in Porto and works at a bakery.", None),
        ("User is married to Sam and has two kids.", None),
        ("Alice lives in Porto.", None),
        ("", None),
    ],
)
def test_a_memory_text_is_read_back_through_the_rules_for_its_slot(text, slot):
    found = memory_slot(text)
    assert (found.name if found else None) == slot


def test_the_slot_carries_the_value_as_the_rules_write_it():
    assert memory_slot("User loves tea!") == Slot("taste:tea", "User likes tea.")
    assert (
        memory_slot("User is 34.")
        == memory_slot("user is 34 years old")
        != memory_slot("User is 35.")
    )
    assert first_person("User studies law.")[0] == "I study law"
    assert first_person("User's age is 30.") == ["my age is 30"]
    assert first_person("User is in their thirties.") == ["I am in my thirties"]


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
    assert entry.value["reason"] == "a near-duplicate of new"


async def test_a_contradicted_memory_is_retired_with_the_newer_one_named_in_history():
    store = InMemoryStore()
    _put(store, "home-1", "User lives in Porto.")
    _put(store, "cat", "User has a cat called Tom.")
    _put(store, "home-2", "User lives in Lisbon.")  # written later: the current value
    out = await _app(store).ainvoke(CONSOLIDATE, CONFIG)
    assert out["changes"]["deleted"] == ["memories/home-1"]
    assert sorted(i.key for i in store.search(("memories",))) == ["cat", "home-2"]
    [entry] = store.search(history_namespace(("memories",)))
    assert entry.value["key"] == "home-1" and entry.value["cause"] == "consolidation"
    assert (
        entry.value["reason"] == "contradicted by the newer home-2 (home: 'User lives in Lisbon.')"
    )


@pytest.mark.parametrize(
    ("context", "pending", "match"),
    [
        ({}, ["memories"], "wait in an inbox"),
        ({"max_memories": 1, "consolidation_max_share": 0.5}, False, "more than consolidation"),
    ],
)
async def test_it_changes_nothing_and_says_why_rather_than_overreach(context, pending, match):
    store = InMemoryStore()
    _put(store, "a", "User likes tea.")
    _put(store, "b", "User has a dog.")
    _put(store, "c", "User lives in Oslo.")
    if pending is not False:
        store.put(inbox_namespace("t9"), "s1", {"namespace": pending, "submissions": []})
    before = sorted(i.key for i in store.search(("memories",)))
    with pytest.raises(Exception, match=match):
        await _app(store).ainvoke(CONSOLIDATE, CONFIG, context=context)
    assert sorted(i.key for i in store.search(("memories",))) == before
    assert store.search(history_namespace(("memories",))) == []
