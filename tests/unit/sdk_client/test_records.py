"""The thread's records without a server: places, shapes, every transition, paging."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from sdk_client import records
from sdk_client.records import (
    DELIVERY_KEY,
    RECEIPT_MAX_AGE_S,
    delivery_namespace,
    delivery_record,
    entry_due,
    entry_submitted_at,
    expired_receipts,
    held_submissions,
    history_entry,
    history_key,
    history_namespace,
    history_ttl_minutes,
    inbox_count,
    inbox_entry,
    inbox_namespace,
    inboxes_namespace,
    newest_run_spec,
    owner_prefix,
    paged,
    read_pages,
    receipt,
    receipts_namespace,
    store_prefixes,
    submission_record,
    thread_of_inbox,
    thread_records,
    user_prefix,
)
from sdk_client.types import MemoryChange

MESSAGE = {"id": "m-1", "role": "user", "content": "I live in Lisbon"}


def test_a_users_records_sit_under_their_prefix_and_a_stranger_owns_none():
    assert user_prefix("anyone", frozenset()) == ()  # open mode: one user, no prefix
    assert user_prefix("alice", {"alice", "bob"}) == ("alice",)
    assert user_prefix("studio:operator", {"alice"}) is None
    assert user_prefix(None, {"alice"}) is None
    assert owner_prefix("alice") == ("alice",) and owner_prefix(None) == owner_prefix("") == ()
    assert store_prefixes({"bob", "alice"}) == [("alice",), ("bob",)]
    assert store_prefixes(frozenset()) == [()]


def test_each_record_has_one_place_per_thread():
    assert inbox_namespace("t") == ("reflection_inbox", "t")
    assert receipts_namespace("t", ("alice",)) == ("alice", "reflection_receipts", "t")
    assert delivery_namespace("t", ["alice"]) == ("alice", "reflection_delivery", "t")
    assert inboxes_namespace(("alice",)) == ("alice", "reflection_inbox")
    assert thread_records("t", ("a",)) == [
        ("a", "reflection_inbox", "t"),
        ("a", "reflection_receipts", "t"),
        ("a", "reflection_delivery", "t"),
    ]
    # Whatever prefix the server added, the thread is the label after the inbox's.
    assert thread_of_inbox(["alice", "reflection_inbox", "t", "x"]) == "t"
    assert DELIVERY_KEY == "state"


def test_an_inbox_entry_is_built_the_same_for_client_and_server():
    sub = submission_record("s-1", [MESSAGE], 100.0, 5.0)  # type: ignore[list-item]
    assert sub == {"submission_id": "s-1", "messages": [MESSAGE], "submitted_at": 100.0,
                   "after_seconds": 5.0}  # fmt: skip
    client = inbox_entry([sub], ("memories", "alice"))
    assert client == {"namespace": ["memories", "alice"], "submissions": [sub]}
    captured = inbox_entry([sub], None, {"assistant_id": "memory_manager"})
    assert captured["namespace"] is None and captured["run"] == {"assistant_id": "memory_manager"}


def test_reading_entries_counts_submissions_and_finds_when_they_were_due():
    early = submission_record("a", [], 100.0, 30.0)
    late = submission_record("b", [], 110.0, 5.0)
    entry = inbox_entry([early, late], None)
    assert entry_submitted_at(entry) == 100.0 and entry_due(entry) == 115.0
    assert entry_submitted_at({}) == entry_due({}) == 0.0
    items = [{"key": "b", "value": entry}, {"key": "c", "value": inbox_entry([], None)}]
    assert inbox_count(items) == 2 and held_submissions(items) == {"a", "b"}


def test_a_redelivery_runs_as_the_newest_entry_was_run():
    old = inbox_entry([submission_record("a", [], 1.0, 0.0)], None, {"assistant_id": "old"})
    new = inbox_entry([submission_record("b", [], 9.0, 0.0)], None, {"assistant_id": "new"})
    items = [{"value": new}, {"value": old}]
    assert newest_run_spec(items, "memory_manager") == {"assistant_id": "new"}
    bare = [{"value": inbox_entry([submission_record("c", [], 1.0, 0.0)], None)}]
    assert newest_run_spec(bare, "memory_manager") == {"assistant_id": "memory_manager"}


def test_a_receipt_says_what_the_run_changed_and_spent():
    usage = {"model_calls": 1, "prompt_tokens": 2, "completion_tokens": 3, "model_seconds": 0.5}
    changes = {"created": ["m/a"], "updated": ["m/c"], "deleted": ["m/b"]}
    value = receipt("s-1", "run-1", ["m-1"], changes, usage, 42.0)  # type: ignore[arg-type]
    assert value == {
        "submission_id": "s-1", "run_id": "run-1", "processed_at": 42.0, "message_ids": ["m-1"],
        "created": ["m/a"], "updated": ["m/c"], "deleted": ["m/b"], "usage": usage,
    }  # fmt: skip
    nothing = receipt("s-2", "run-1", [], {}, usage, 42.0)  # type: ignore[arg-type]
    assert nothing["created"] == nothing["updated"] == nothing["deleted"] == []


def test_receipts_nobody_came_back_for_are_pruned_but_not_fresh_ones():
    now = 1_000_000.0
    old, young, rewritten = (
        ("old", now - RECEIPT_MAX_AGE_S - 1),
        ("young", now - 60),
        ("again", now - RECEIPT_MAX_AGE_S - 1),
    )
    at_cutoff = ("edge", now - RECEIPT_MAX_AGE_S)
    found = expired_receipts(
        [old, young, rewritten, at_cutoff], lambda r: r[1], {"again"}, lambda r: r[0], now=now
    )
    assert found == [old]  # older than the cut-off, not at it


def test_a_delivery_record_counts_attempts_and_parks():
    first = delivery_record(None, 5, 10.0, error="run r ended error", run_id="r", attempts=1,
                            next_at=25.0)  # fmt: skip
    assert first == {"attempts": 1, "max_attempts": 5, "next_at": 25.0, "parked": False,
                     "last_error": "run r ended error", "last_run_id": "r", "updated_at": 10.0}  # fmt: skip
    parked = delivery_record(first, 5, 99.0, error="gave up", run_id=None, next_at=120.0,
                             parked=True)  # fmt: skip
    # Parking keeps the count it reached and has no next attempt.
    assert (parked["attempts"], parked["parked"], parked["next_at"]) == (1, True, None)
    never = delivery_record(None, 5, 1.0, error="lost", run_id=None, parked=True)
    assert never["attempts"] == 0  # parked before any attempt of ours: none counted


def _fake_listing(total: int):
    asked: list[tuple[int, int]] = []

    def fetch(limit: int, offset: int) -> list[int]:
        asked.append((limit, offset))
        return list(range(total))[offset : offset + limit]

    return asked, fetch


@pytest.mark.parametrize(("total", "calls"), [(0, 1), (3, 2), (4, 3), (5, 3)])
def test_paging_reads_to_the_first_short_page(total: int, calls: int):
    asked, fetch = _fake_listing(total)
    flow = paged(lambda limit, offset: (limit, offset), 2)
    request = next(flow)
    try:
        while True:
            request = flow.send(fetch(*request))
    except StopIteration as done:
        assert done.value == list(range(total))
    assert asked == [(2, 2 * i) for i in range(calls)]


def test_async_paging_reads_every_page_and_unwraps_keyed_answers():
    asked, fetch = _fake_listing(5)

    async def fetch_items(limit: int, offset: int) -> dict[str, list[int]]:
        return {"items": fetch(limit, offset)}

    assert asyncio.run(read_pages(fetch_items, 2, "items")) == [0, 1, 2, 3, 4]
    assert asked == [(2, 0), (2, 2), (2, 4)]


def test_the_module_loads_none_of_the_client():
    code = (
        "import sys, sdk_client.records; "
        "print(sorted(m for m in sys.modules if m.startswith('sdk_client')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(
        ["sdk_client", "sdk_client.contract", "sdk_client.errors", "sdk_client.records"]
    )
    assert records.STORE_PAGE > records.RUNS_PAGE > 0


def test_a_history_entry_says_what_happened_from_before_and_after():
    kinds = [
        history_entry(("m",), "k", None, {"v": 1}, 5.0)["event"],
        history_entry(("m",), "k", {"v": 1}, {"v": 2}, 5.0)["event"],
        history_entry(("m",), "k", {"v": 2}, None, 5.0)["event"],
        history_entry(("m",), "k", None, {"v": 1}, 5.0, restores="k@1")["event"],
    ]
    assert kinds == ["created", "updated", "deleted", "restored"]
    entry = history_entry(["m", "a"], "k", None, {"v": 1}, 5.0, run_id="r",
                          submission_ids=["s"], message_ids=["m-1"], restores="x")  # fmt: skip
    assert entry == {"namespace": ["m", "a"], "key": "k", "event": "restored", "at": 5.0,
                     "run_id": "r", "thread_id": None, "submission_ids": ["s"], "message_ids": ["m-1"],
                     "before": None, "after": {"v": 1}, "restores": "x"}  # fmt: skip
    assert "restores" not in history_entry(("m",), "k", None, {"v": 1}, 5.0)
    retired = history_entry(("m",), "k", {"v": 1}, None, 5.0, cause="consolidation",
                            reason="contradicted by the newer j")  # fmt: skip
    assert (retired["cause"], retired["reason"]) == ("consolidation", "contradicted by the newer j")
    change = MemoryChange.from_item({"key": "k@1", "value": retired})
    assert (change.cause, change.reason) == ("consolidation", "contradicted by the newer j")
    assert "reason" not in history_entry(("m",), "k", {"v": 1}, None, 5.0)


def test_history_sits_beside_the_memories_and_its_keys_sort_by_time():
    assert history_namespace(("memories", "alice")) == ("reflection_history", "memories", "alice")
    keys = [history_key("k", at, seq) for at, seq in [(9.5, 0), (10.0, 0), (10.0, 1), (100.0, 0)]]
    assert keys == sorted(keys) and len(set(keys)) == 4 and keys[0].startswith("k@")
    assert history_ttl_minutes(90) == 90 * 24 * 60 and history_ttl_minutes(0) is None
    # Microseconds, zero-padded; the place in the run last (0 when alone).
    assert history_key("home", 1.5) == "home@00000000001500000.000"
    assert history_key("home", 1.5, 12) == "home@00000000001500000.012"


def test_paging_stops_early_when_told_and_not_before():
    asked, fetch = _fake_listing(10)
    flow = paged(lambda limit, offset: (limit, offset), 3, until=lambda found: found[-1] >= 4)
    request = next(flow)
    try:
        while True:
            request = flow.send(fetch(*request))
    except StopIteration as done:
        assert done.value == [0, 1, 2, 3, 4, 5]  # the page that held 4, then no more
    assert asked == [(3, 0), (3, 3)]


def test_async_paging_stops_early_when_told():
    asked, fetch = _fake_listing(10)

    async def fetch_page(limit: int, offset: int) -> list[int]:
        return fetch(limit, offset)

    found = asyncio.run(read_pages(fetch_page, 3, until=lambda found: found[-1] >= 4))
    assert found == [0, 1, 2, 3, 4, 5] and asked == [(3, 0), (3, 3)]


def test_a_backfill_record_holds_its_conversations_done_and_a_summary_naming_no_user():
    assert records.backfill_namespace("bf-1") == ("reflection_backfill", "bf-1")
    assert records.backfill_namespace("bf-1", ("alice",)) == (
        "alice",
        "reflection_backfill",
        "bf-1",
    )
    done = records.backfill_conversation(3, 4, ["r1", "r2", "r1"], 2, 1, now=5.0)
    assert done == {
        "line": 3,
        "messages": 4,
        "run_ids": ["r1", "r2"],
        "created": 2,
        "updated": 1,
        "done_at": 5.0,
    }
    first = records.backfill_summary(None, "chats.jsonl", 10, 1, 4, 1, now=7.0)
    assert first["started_at"] == first["updated_at"] == 7.0 and not first["finished"]
    again = records.backfill_summary(first, "chats.jsonl", 10, 1, 10, 0, now=9.0)
    assert again["started_at"] == 7.0 and again["updated_at"] == 9.0 and again["finished"]
    items = [{"key": "c1"}, {"key": records.BACKFILL_SUMMARY_KEY}, {"key": "c2"}]
    assert records.backfill_done_keys(items) == {"c1", "c2"}


def test_a_backfill_summary_keeps_when_it_first_started_and_says_when_it_is_finished():
    first = records.backfill_summary(None, "chats.jsonl", 4, 1, 2, 1, 10.0)
    assert first == {
        "source": "chats.jsonl", "conversations": 4, "bad_lines": 1, "done": 2, "failed": 1,
        "started_at": 10.0, "updated_at": 10.0, "finished": False,
    }  # fmt: skip
    later = records.backfill_summary(first, "chats.jsonl", 4, 1, 4, 0, 20.0)
    assert (later["started_at"], later["updated_at"], later["finished"]) == (10.0, 20.0, True)


def test_the_activity_records_name_their_namespace_time_and_run():
    assert records.extraction_record(("memories", "a"), 5.0, "r1", "asst") == {
        "namespace": ["memories", "a"], "at": 5.0, "run_id": "r1", "assistant_id": "asst",
    }  # fmt: skip
    assert records.consolidation_attempt(("memories", "a"), 5.0, 6.0, None) == {
        "namespace": ["memories", "a"], "quiet_since": 5.0, "at": 6.0, "run_id": None,
    }  # fmt: skip
