"""Forgetting by policy: the decision, the store view consolidation plans over, and the run."""

from __future__ import annotations

import time

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.forgetting import (
    DAY,
    Aging,
    HidingStore,
    forgetting_reason,
    limit_for,
    plan_forgetting,
)
from graphs.memory_manager.graph import builder
from sdk_client.records import USE_SINCE_KEY, history_namespace, use_namespace

NOW = 1_000 * DAY
CONSOLIDATE = {"messages": [], "consolidate": True}


def test_a_type_gets_its_own_limit_else_the_star_one_else_none():
    policy = {"Preference": 30.0, "*": 365.0}
    assert limit_for(policy, "Preference") == 30
    assert limit_for(policy, "Memory") == 365
    assert limit_for({"Preference": 30.0}, "Memory") == 0
    assert limit_for({"Memory": 0.0, "*": 9.0}, "Memory") == 0  # 0 names "never" for the type


def test_age_counts_from_the_last_write_and_disuse_from_the_last_use_or_write():
    after, unused = {"Memory": 100.0}, {"Memory": 10.0}
    old_but_used = Aging("Memory", NOW - 50 * DAY, used_at=NOW - 1 * DAY)
    assert forgetting_reason(old_but_used, after, unused, NOW) is None
    stale = Aging("Memory", NOW - 50 * DAY, used_at=NOW - 11 * DAY)
    assert "not used for 11 days" in (forgetting_reason(stale, after, unused, NOW) or "")
    never_used_but_new = Aging("Memory", NOW - 5 * DAY)
    assert forgetting_reason(never_used_but_new, after, unused, NOW) is None
    ancient = Aging("Memory", NOW - 101 * DAY, used_at=NOW)  # used today, but too old
    reason = forgetting_reason(ancient, after, unused, NOW) or ""
    assert "not written for 101 days" in reason and "forget_after_days['Memory'] = 100" in reason
    other_type = Aging("Preference", NOW - 500 * DAY)
    assert forgetting_reason(other_type, after, unused, NOW) is None  # no policy for it


def test_the_plan_names_each_memory_to_forget_with_why():
    memories = {
        (("m",), "a"): Aging("Memory", NOW - 3 * DAY),
        (("m",), "b"): Aging("Memory", NOW - 1 * DAY),
        (("m", "Profile"), "p"): Aging("Profile", NOW - 3 * DAY),
    }
    plan = plan_forgetting(memories, {"*": 2.0}, {}, NOW)
    assert set(plan) == {(("m",), "a"), (("m", "Profile"), "p")}
    assert plan_forgetting(memories, {}, {}, NOW) == {}


async def test_the_hiding_view_pages_exactly_over_what_is_left():
    store = InMemoryStore()
    for n in range(7):
        store.put(("m",), f"k{n}", {"n": n})
    hidden = {(("m",), "k1"), (("m",), "k4")}
    view = HidingStore(store, hidden)
    pages = [await view.asearch(("m",), limit=2, offset=o) for o in (0, 2, 4)]
    seen = [i.key for page in pages for i in page]
    assert sorted(seen) == ["k0", "k2", "k3", "k5", "k6"] and len(pages[2]) == 1
    assert await view.aget(("m",), "k1") is None
    assert (await view.aget(("m",), "k2")) is not None


def _app(store: InMemoryStore):
    return builder.compile(store=store, checkpointer=InMemorySaver())


def _put(store: InMemoryStore, key: str, text: str, kind: str = "Memory") -> None:
    store.put(("memories",), key, {"kind": kind, "content": {"content": text}})


def _config(run: str) -> dict:
    return {"configurable": {"thread_id": f"forget-{run}", "run_id": run}}


async def test_a_consolidation_run_forgets_by_type_into_history_and_plans_over_the_rest():
    store = InMemoryStore()
    _put(store, "tea", "User likes tea.")
    _put(store, "tea-again", "user likes TEA")  # a near-duplicate of a memory forgotten
    _put(store, "porto", "User lives in Porto.", kind="Place")
    _put(store, "oslo", "User visited Oslo.", kind="Place")
    time.sleep(0.05)
    tiny = 0.01 / DAY  # older than 10 ms
    context = {"forget_after_days": {"Memory": tiny}, "max_memories": 1}
    out = await _app(store).ainvoke(CONSOLIDATE, _config("r1"), context=context)
    # Both free-text memories are forgotten: consolidation no longer sees the duplicate,
    # and its bound counts only the two places, of which it retires the older.
    assert sorted(out["changes"]["deleted"]) == [
        "memories/porto", "memories/tea", "memories/tea-again",
    ]  # fmt: skip
    assert [i.key for i in store.search(("memories",))] == ["oslo"]
    entries = {e.value["key"]: e.value for e in store.search(history_namespace(("memories",)))}
    assert entries["tea"]["cause"] == "forgetting" and "not written for" in entries["tea"]["reason"]
    assert entries["tea-again"]["cause"] == "forgetting"
    assert entries["porto"]["cause"] == "consolidation"
    # consolidation's own reason, not forgetting's
    assert "max_memories" in entries["porto"]["reason"]


async def test_unused_forgetting_reads_use_records_and_refuses_on_a_server_that_keeps_none(
    monkeypatch,
):
    store = InMemoryStore()
    _put(store, "used", "User likes tea.")
    _put(store, "idle", "User lives in Porto.")
    time.sleep(0.6)
    context = {"forget_unused_days": {"*": 0.5 / DAY}}  # both unused: written 0.6 s ago
    monkeypatch.delenv("MEMORY_FORGET_UNUSED_DAYS", raising=False)
    with pytest.raises(Exception, match="MEMORY_FORGET_UNUSED_DAYS"):
        await _app(store).ainvoke(CONSOLIDATE, _config("r2"), context=context)
    assert len(store.search(("memories",))) == 2  # nothing changed

    monkeypatch.setenv("MEMORY_FORGET_UNUSED_DAYS", "0")  # set: this server records uses
    store.put(use_namespace(()), USE_SINCE_KEY, {"at": time.time() - 10})  # counted since
    store.put(use_namespace(("memories",)), "used", {"used_at": time.time()})  # read just now
    out = await _app(store).ainvoke(CONSOLIDATE, _config("r3"), context=context)
    assert out["changes"]["deleted"] == ["memories/idle"]
    [entry] = store.search(history_namespace(("memories",)))
    assert "not used for" in entry.value["reason"]


async def test_disuse_counts_from_the_first_run_that_asks_for_it_not_from_the_last_write(
    monkeypatch,
):
    """Reads before that run may have gone unrecorded: a memory read daily must not go."""
    monkeypatch.setenv("MEMORY_FORGET_UNUSED_DAYS", "0")
    store = InMemoryStore()
    _put(store, "old", "User lives in Porto.")
    time.sleep(0.6)
    context = {"forget_unused_days": {"*": 0.5 / DAY}}  # written 0.6 s ago, never read
    out = await _app(store).ainvoke(CONSOLIDATE, _config("first"), context=context)
    assert out["changes"]["deleted"] == []
    since = store.get(use_namespace(()), USE_SINCE_KEY)
    assert since is not None and since.value["at"] == pytest.approx(time.time(), abs=5)
    out = await _app(store).ainvoke(CONSOLIDATE, _config("again"), context=context)
    assert out["changes"]["deleted"] == []  # counted from the marker: not 0.5 s yet
    time.sleep(0.6)
    out = await _app(store).ainvoke(CONSOLIDATE, _config("later"), context=context)
    assert out["changes"]["deleted"] == ["memories/old"]
    assert store.get(use_namespace(()), USE_SINCE_KEY).value == since.value  # kept, not reset
