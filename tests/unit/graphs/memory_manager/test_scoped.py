"""Per-user isolation, the graph's half: a keyed user's run sees only their prefix."""

from __future__ import annotations

import pytest
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.scoped import ScopedStore, store_prefix
from graphs.server.access import UnscopedRunError
from sdk_client.records import DELIVERY_KEY, delivery_namespace, inbox_namespace, receipts_namespace

THREAD = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def keyed(use_keys) -> None:
    use_keys(f"alice:{'a' * 16},bob:{'b' * 16}")


def test_open_mode_runs_are_unprefixed():
    assert store_prefix({}) == ()
    assert store_prefix({"langgraph_auth_user_id": "local"}) == ()


def test_keyed_runs_are_prefixed_with_the_identity_the_server_stamped(keyed):
    # Cron runs carry no permissions, only their creator's identity: the same prefix.
    assert store_prefix({"langgraph_auth_user_id": "alice"}) == ("alice",)
    assert store_prefix({"langgraph_auth_user_id": "bob", "langgraph_auth_permissions": []}) == (
        "bob",
    )


@pytest.mark.parametrize("identity", [None, "", "local", "studio:operator", "mallory"])
def test_keyed_runs_without_a_key_holders_identity_fail_closed(keyed, identity):
    with pytest.raises(UnscopedRunError, match="MEMORY_API_KEYS set.*stopped before touching"):
        store_prefix({"langgraph_auth_user_id": identity})


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


async def test_a_keyed_run_reads_and_writes_inside_its_owners_prefix(keyed, app, store):
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


async def test_a_keyed_run_without_identity_touches_no_store(keyed, app, store):
    """Studio's operator, or a cron whose creator's key was removed: refused before any read."""
    store.put(("memories",), "k", {"content": "untouched"})
    config = {"configurable": {"thread_id": THREAD, "langgraph_auth_user_id": "studio:operator"}}
    payload = {"messages": [{"role": "user", "content": "I live in Oslo."}]}
    with pytest.raises(UnscopedRunError):
        await app.ainvoke(payload, config)
    assert [(i.namespace, i.key) for i in store.search(())] == [(("memories",), "k")]


async def test_a_keyed_runs_acknowledgements_stay_inside_its_owners_prefix(keyed, app, store):
    # The same thread id under both users: alice's commit prunes and clears only hers.
    old = {"submission_id": "old", "processed_at": 1.0}
    for user in ("alice", "bob"):
        store.put((user, *receipts_namespace(THREAD)), "old", old)
        store.put((user, *delivery_namespace(THREAD)), DELIVERY_KEY, {"attempts": 1})
    config = {"configurable": {"thread_id": THREAD, "langgraph_auth_user_id": "alice"}}
    await app.ainvoke({"messages": [{"role": "user", "content": "I live in Oslo."}]}, config)
    assert store.get(("alice", *receipts_namespace(THREAD)), "old") is None
    assert store.get(("alice", *delivery_namespace(THREAD)), DELIVERY_KEY) is None
    assert store.get(("bob", *receipts_namespace(THREAD)), "old") is not None
    assert store.get(("bob", *delivery_namespace(THREAD)), DELIVERY_KEY) is not None
    assert store.search(("bob", "memories")) == [] and store.search(("memories",)) == []
