"""Per-user isolation, the graph's half: a keyed user's run sees only their prefix."""

from __future__ import annotations

import pytest
from langgraph.store.memory import InMemoryStore

from graphs.auth import parse_api_keys
from graphs.memory_manager.scoped import SCOPED, ScopedStore, store_prefix
from sdk_client.contract import inbox_namespace, receipts_namespace

THREAD = "11111111-2222-3333-4444-555555555555"


def test_store_prefix_only_for_keyed_users():
    assert store_prefix({}) == ()
    assert store_prefix({"langgraph_auth_user_id": "local", "langgraph_auth_permissions": []}) == ()
    keyed = {"langgraph_auth_user_id": "alice", "langgraph_auth_permissions": [SCOPED]}
    assert store_prefix(keyed) == ("alice",)


def test_scoped_store_prefixes_in_and_strips_out():
    inner = InMemoryStore()
    inner.put(("memories", "alice"), "outside", {"content": "not alice's"})
    alice = ScopedStore(inner, ("alice",))
    alice.put(("memories", "alice"), "k", {"content": "hers"})
    assert inner.get(("alice", "memories", "alice"), "k") is not None
    got = alice.get(("memories", "alice"), "k")
    assert got is not None and got.namespace == ("memories", "alice")
    assert [i.key for i in alice.search(("memories",))] == ["k"]
    assert alice.list_namespaces() == [("memories", "alice")]
    assert alice.list_namespaces(prefix=("memories",), max_depth=1) == [("memories",)]
    # The inner store's own item is untouched by the stripping.
    assert inner.get(("alice", "memories", "alice"), "k").namespace == (
        "alice",
        "memories",
        "alice",
    )
    alice.delete(("memories", "alice"), "k")
    assert inner.get(("alice", "memories", "alice"), "k") is None
    assert inner.get(("memories", "alice"), "outside") is not None


async def test_a_keyed_run_reads_and_writes_inside_its_owners_prefix(app, store):
    store.put(
        ("alice", *inbox_namespace(THREAD)), "sub",
        {"namespace": ["memories"], "submissions": [{
            "submission_id": "sub-0", "submitted_at": 1.0, "after_seconds": 0,
            "messages": [{"role": "user", "content": "I live in Oslo.", "id": "m1"}],
        }]},
    )  # fmt: skip
    config = {
        "configurable": {
            "thread_id": THREAD,
            "langgraph_auth_user_id": "alice",
            "langgraph_auth_permissions": [SCOPED],
        }
    }
    # The run's own namespace names bob's memories: it still lands under alice's prefix.
    await app.ainvoke({"messages": [], "submission_id": "sub-0"}, config,
                      context={"namespace": ["memories", "bob"]})  # fmt: skip
    assert [i.value["content"]["content"] for i in store.search(("alice", "memories"))] == [
        "User lives in Oslo."
    ]
    assert store.search(("memories",)) == []
    assert store.search(("alice", *inbox_namespace(THREAD))) == []
    assert [i.key for i in store.search(("alice", *receipts_namespace(THREAD)))] == ["sub-0"]


def test_api_keys_parse_into_identities():
    keys = parse_api_keys(" alice:" + "a" * 16 + " , bob:" + "b" * 20)
    assert keys == {"a" * 16: "alice", "b" * 20: "bob"}
    assert parse_api_keys("") == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("alice", "expected identity:key"),
        ("alice:short", "shorter than 16"),
        ("a.b:" + "k" * 16, "identity"),
        (f"alice:{'k' * 16},bob:{'k' * 16}", "also 'alice'"),
    ],
)
def test_bad_api_keys_say_which_entry(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_api_keys(raw)
