"""The offline extractor with the real semantic index: restatements, ranking, memory types."""

from __future__ import annotations

import pytest

from sdk_client.records import history_namespace
from tests.schemas import NOTE, PREFERENCE
from tests.schemas import USER as PROFILE

THREAD = "33333333-4444-5555-6666-777777777777"
CONFIG = {"configurable": {"thread_id": THREAD}}


async def say(app, *turns: str, **context):
    return await app.ainvoke(
        {"messages": [{"role": "user", "content": t} for t in turns]}, CONFIG, context=context
    )


def contents(store, namespace=("memories",)) -> list[str]:
    return sorted(
        i.value["content"]["content"]
        for i in store.search(namespace, limit=100)
        if i.namespace == namespace
    )


async def test_restatements_are_not_stored_again(indexed_app, indexed_store):
    await say(indexed_app, "I'm a vegetarian.", "My favorite color is green.")
    # Later, in other words; and a restatement inside one run is caught too.
    await say(indexed_app, "I am vegetarian.", "My favourite colour is green.", "I love chess.")
    await say(indexed_app, "I really enjoy playing chess", "I love jazz")
    assert contents(indexed_store) == [
        "User is a vegetarian.",
        "User likes chess.",
        "User likes jazz.",
        "User's favorite color is green.",
    ]


async def test_without_an_index_restatements_pile_up(app, store):
    await say(app, "I'm a vegetarian.")
    await say(app, "I am vegetarian.")
    assert contents(store) == ["User is a vegetarian.", "User is vegetarian."]


async def test_threshold_one_keeps_restatements(indexed_app, indexed_store):
    await say(indexed_app, "I'm a vegetarian.")
    await say(indexed_app, "I am vegetarian.", dedup_threshold=1.0)
    assert len(contents(indexed_store)) == 2


async def test_a_new_value_of_a_slot_is_an_update_not_a_duplicate(indexed_app, indexed_store):
    await say(indexed_app, "I live in Paris.", "I love coffee.")
    await say(indexed_app, "I moved to Berlin.", "I hate coffee.")
    assert contents(indexed_store) == ["User dislikes coffee.", "User lives in Berlin."]


async def test_search_ranks_the_right_memory_first(indexed_app, indexed_store):
    await say(
        indexed_app,
        "My name is Dana. I work at Initech and I love surfing.",
        "I live in Lisbon. My dog is called Rex. I'm from Canada.",
    )
    top = indexed_store.search(("memories",), query="where does the user live?", limit=3)
    assert top[0].value["content"]["content"] == "User lives in Lisbon."
    top = indexed_store.search(("memories",), query="what is the user's pet?", limit=3)
    assert top[0].value["content"]["content"] == "User's dog is called Rex."


async def test_profile_is_one_document_patched_in_place(app, store):
    await say(app, "My name is Ann. I'm 34. I live in Oslo. I love skiing.", schemas=[PROFILE])
    await say(app, "I moved to Rome. I love chess. I hate skiing now.", schemas=[PROFILE])
    (doc,) = store.search(("memories", "User"))
    assert doc.value == {
        "kind": "User",
        "content": {"user_name": "Ann", "age": 34, "home": "Rome", "interests": ["chess"]},
    }
    # Profile only: what it has no property for (the dislike) is not stored elsewhere.
    assert store.search(("memories",), limit=10) == [doc]


async def test_collections_take_the_facts_that_fit_them(app, store):
    schemas = [PROFILE, PREFERENCE, NOTE]
    await say(
        app, "I work as a nurse. I love tea but I don't like rain. My cat is Tom.", schemas=schemas
    )
    items = {i.namespace: [] for i in store.search(("memories",), limit=20)}
    for i in store.search(("memories",), limit=20):
        items[i.namespace].append(i.value)
    assert items[("memories", "User")] == [
        {"kind": "User", "content": {"occupation": "a nurse", "interests": ["tea"]}}
    ]
    assert sorted((v["kind"], sorted(v["content"].items())) for v in items[("memories",)]) == [
        (
            "Note",
            [
                ("content", "User's cat is Tom."),
                ("context", "I work as a nurse. I love tea but I don't like rain. My cat is Tom."),
            ],
        ),
        ("Preference", [("item", "rain"), ("likes", False)]),
    ]


@pytest.mark.parametrize("schemas", [[NOTE]])
async def test_typed_collection_items_are_searchable(indexed_app, indexed_store, schemas):
    await say(indexed_app, "I live in Lisbon. I love surfing. I work at Initech.", schemas=schemas)
    top = indexed_store.search(("memories",), query="where does the user live?", limit=1)
    assert top[0].value["content"]["content"] == "User lives in Lisbon."


async def test_a_memory_is_embedded_once_by_its_text(indexed_app, indexed_store):
    await say(indexed_app, "I love chess.")
    await say(indexed_app, "I work at Initech.", schemas=[NOTE])
    kinds = {i.key: i.value["kind"] for i in indexed_store.search(("memories",), limit=10)}
    # InMemoryStore's index: namespace → key → field → vector.
    fields = {kinds[k]: set(f) for k, f in indexed_store._vectors[("memories",)].items()}
    assert fields == {
        "Memory": {"content.content"},  # its text alone, not again wrapped in JSON
        "Note": {"content.content", "content"},  # a typed memory: every configured field
    }


async def test_a_post_at_a_named_employer_replaces_an_older_bare_job_in_history(app, store):
    await say(app, "I'm a software engineer.", "I love chess.")
    await say(app, "I work as a software engineer at Globex.")
    assert contents(store) == ["User likes chess.", "User works as a software engineer at Globex."]
    deleted = [h.value for h in store.search(history_namespace(("memories",)), limit=50)]
    deleted = [v for v in deleted if v["event"] == "deleted"]
    assert [v["before"]["content"]["content"] for v in deleted] == ["User is a software engineer."]
    # The job said only in a later run is kept beside the employer: nothing to replace.
    await say(app, "I work at Initech.", namespace=["memories", "b"])
    await say(app, "I'm a pilot.", namespace=["memories", "b"])
    assert contents(store, ("memories", "b")) == ["User is a pilot.", "User works at Initech."]
