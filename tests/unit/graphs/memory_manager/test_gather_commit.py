"""gather and commit in detail: what is read, in which order, and what is written back.

test_graph.py runs the whole graph for its outcomes; these pin the details a run's
caller and the next run rely on: timing, receipts, the delivery record, pruning.
"""

from __future__ import annotations

import time

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.commit import RECEIPT_MAX_AGE_S, _plan, index_fields
from graphs.memory_manager.gather import read_inbox
from sdk_client.contract import normalize_payload
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import (
    DELIVERY_KEY,
    EXTRACTED_KEY,
    activity_namespace,
    delivery_namespace,
    history_key,
    history_namespace,
    inbox_namespace,
    receipts_namespace,
)

THREAD = "11111111-2222-3333-4444-555555555555"
INBOX_ONLY = {"messages": [], "redelivery": 1}  # a redeliverer's run: the inbox, nothing of its own


def config(**configurable):
    return {"configurable": {"thread_id": THREAD, **configurable}}


def entry(key: str, text: str, submitted_at: float, after: float | None = 1.0) -> dict:
    sub = {
        "submission_id": key,
        "messages": normalize_payload({"messages": [{"role": "user", "content": text}]}),
        "submitted_at": submitted_at,
    }
    if after is not None:
        sub["after_seconds"] = after
    return {"namespace": ["memories"], "submissions": [sub]}


async def test_timing_comes_from_the_inbox_submissions(app, store):
    # keys in the opposite order of the times: the order must come from submitted_at
    store.put(inbox_namespace(THREAD), "a-late", entry("late", "I live in Paris.", 2000.0, 30.0))
    store.put(inbox_namespace(THREAD), "z-early", entry("early", "I love tea.", 1000.0, None))
    out = await app.ainvoke(INBOX_ONLY, config())
    timing = out["timing"]
    assert (timing["first_submitted_at"], timing["last_submitted_at"], timing["due_at"]) == (
        1000.0,
        2000.0,
        2030.0,
    )
    # oldest submission first, whatever the keys say
    assert [m["submission_id"] for m in out["processed"]] == ["early", "late"]


async def test_a_redelivery_run_processes_the_inbox_and_an_input_with_messages_too(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    out = await app.ainvoke({"messages": [], "redelivery": 1, "submission_id": "r"}, config())
    assert out["submissions"] == ["a"]
    msg = {"role": "user", "content": "My name is Ann."}
    out = await app.ainvoke({"messages": [msg], "redelivery": 1, "submission_id": "own"}, config())
    assert out["submissions"] == ["own"]


async def test_every_inbox_entry_is_read_past_the_stores_default_page(app, store):
    for i in range(12):
        store.put(
            inbox_namespace(THREAD), f"k{i:02}", entry(f"s{i}", f"Fact number {i}.", float(i))
        )
    out = await app.ainvoke(INBOX_ONLY, config())
    assert out["submissions"] == [f"s{i}" for i in range(12)]
    assert store.search(inbox_namespace(THREAD), limit=100) == []


async def test_receipts_name_the_run_and_what_it_changed(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    before = time.time()
    out = await app.ainvoke(INBOX_ONLY, config(run_id="run-9"))
    assert out["run_id"] == "run-9"
    [item] = store.search(receipts_namespace(THREAD))
    receipt = item.value
    assert item.key == "a" and receipt["submission_id"] == "a" and receipt["run_id"] == "run-9"
    assert receipt["message_ids"] == [m["id"] for m in out["processed"]]
    assert receipt["created"] == out["changes"]["created"] and len(receipt["created"]) == 1
    assert receipt["updated"] == receipt["deleted"] == []
    assert before <= receipt["processed_at"] <= time.time()


async def test_the_run_id_may_come_from_the_runs_metadata(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    out = await app.ainvoke(INBOX_ONLY, {**config(), "metadata": {"run_id": "run-m"}})
    assert out["run_id"] == "run-m"
    assert store.get(receipts_namespace(THREAD), "a").value["run_id"] == "run-m"


async def test_an_input_without_a_submission_id_leaves_no_receipt(app, store):
    out = await app.ainvoke({"messages": [{"role": "user", "content": "I love tea."}]}, config())
    assert out["submissions"] == [] and len(out["processed"]) == 1
    assert store.search(receipts_namespace(THREAD)) == []


async def test_a_commit_clears_the_delivery_record(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    store.put(delivery_namespace(THREAD), DELIVERY_KEY, {"attempts": 2, "parked": True})
    await app.ainvoke(INBOX_ONLY, config())
    assert store.get(delivery_namespace(THREAD), DELIVERY_KEY) is None


async def test_old_receipts_nobody_came_back_for_are_pruned(app, store):
    now = time.time()
    ns = receipts_namespace(THREAD)
    store.put(ns, "old", {"submission_id": "old", "processed_at": now - RECEIPT_MAX_AGE_S - 60})
    store.put(ns, "fresh", {"submission_id": "fresh", "processed_at": now - 60})
    store.put(ns, "undated", {"submission_id": "undated"})
    for n in range(15):  # more than a store search's default page (10)
        store.put(ns, f"old-{n}", {"submission_id": f"old-{n}", "processed_at": 1.0})
    await app.ainvoke(INBOX_ONLY, config())
    assert sorted(i.key for i in store.search(ns, limit=100)) == ["fresh"]


def test_a_retirement_of_a_memory_written_since_its_plan_is_dropped_and_no_other():
    from graphs.memory_manager.commit import _still_planned
    from graphs.memory_manager.state import retirement

    old, new = {"content": "User lives in Porto."}, {"content": "User lives in Madrid."}
    ops = [
        retirement(["memories"], "home", old, "contradicted"),  # home now holds `new`
        retirement(["memories"], "cat", old, "duplicate"),
        retirement(["memories"], "gone", old, "duplicate"),  # deleted meanwhile: a no-op
        {"namespace": ["memories"], "key": "tea", "value": new},  # not a retirement
    ]
    found = {(("memories",), "home"): new, (("memories",), "cat"): old,
             (("memories",), "gone"): None}  # fmt: skip
    assert [op["key"] for op in _still_planned(ops, found)] == ["cat", "gone", "tea"]  # type: ignore[arg-type]


def test_a_staged_delete_of_a_memory_is_a_write_and_is_counted_once():
    found = {(("memories",), "m1"): {"kind": "Memory", "content": {"content": "x"}}}
    ops = [
        {"namespace": ["memories"], "key": "m1", "value": None},
        {"namespace": ["memories"], "key": "never-there", "value": None},
        {"namespace": ["memories"], "key": "m1", "value": None},  # already gone by then
    ]
    changes, _, writes = _plan(ops, found)  # type: ignore[arg-type]
    assert changes == {"created": [], "updated": [], "deleted": ["memories/m1"]}
    assert [(w.namespace, w.key, w.value) for w in writes] == [(("memories",), "m1", None)]


async def test_a_run_that_writes_a_receipt_again_keeps_it(app, store):
    # A submission processed again long after its first receipt (redelivered a day
    # later): the new receipt is written, and the old one's age must not prune it.
    ns = receipts_namespace(THREAD)
    store.put(ns, "again", {"submission_id": "again", "processed_at": 1.0})
    store.put(inbox_namespace(THREAD), "again", entry("again", "I love tea.", 2.0))
    await app.ainvoke(INBOX_ONLY, config())
    receipt = store.get(ns, "again")
    assert receipt is not None and receipt.value["processed_at"] > time.time() - 60


class CountingStore(InMemoryStore):
    batches = 0

    async def abatch(self, ops):
        self.batches += 1
        return await super().abatch(ops)


async def test_commit_reads_once_writes_once_and_acknowledges_once():
    from graphs.memory_manager.graph import builder

    store = CountingStore()
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    for key, text in (("a", "I love tea."), ("b", "I live in Paris."), ("c", "I have a cat.")):
        store.put(inbox_namespace(THREAD), key, entry(key, text, 1.0))
    store.put(delivery_namespace(THREAD), DELIVERY_KEY, {"attempts": 1})
    before = store.batches
    async for chunk in app.astream(INBOX_ONLY, config(), stream_mode="updates"):
        if "extract" in chunk:
            before = store.batches  # what gather and extract asked is theirs
    assert store.batches - before == 3
    assert len(store.search(("memories",), limit=10)) >= 3
    assert store.search(inbox_namespace(THREAD)) == []


async def test_a_submission_without_a_delay_is_due_when_submitted(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1000.0, None))
    out = await app.ainvoke(INBOX_ONLY, config())
    assert out["timing"]["due_at"] == 1000.0


async def test_a_bad_namespace_fails_the_run_naming_where_it_came_from(app, store):
    with pytest.raises(InvalidPayloadError, match=r"^context\.namespace: no value for placeholder"):
        await app.ainvoke(INBOX_ONLY, config(), context={"namespace": ["m", "{user_id}"]})
    bad = {**entry("a", "I love tea.", 1.0), "namespace": ["a.b"]}
    store.put(inbox_namespace(THREAD), "a", bad)
    with pytest.raises(InvalidPayloadError, match=r"^inbox\.namespace\[0\]: label 'a\.b'"):
        await app.ainvoke(INBOX_ONLY, config())


async def test_the_inbox_is_read_page_by_page_to_its_end():
    store = InMemoryStore()
    for i in range(501):
        store.put(inbox_namespace(THREAD), f"k{i:03}", {"submissions": [{"submitted_at": -i}]})
    items = await read_inbox(store, THREAD)
    assert [i.key for i in items] == [f"k{i:03}" for i in reversed(range(501))]


async def test_commit_leaves_results_not_scratch_in_the_threads_state(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    await app.ainvoke(INBOX_ONLY, config())
    values = (await app.aget_state(config())).values
    assert values["batches"] == values["ops"] == values["inbox_keys"] == []
    assert values["submissions"] == ["a"]


def resend(original: dict, key: str, submitted_at: float) -> dict:
    """The same messages (same ids) submitted again under another submission id."""
    [sub] = original["submissions"]
    return {
        **original,
        "submissions": [{**sub, "submission_id": key, "submitted_at": submitted_at}],
    }


async def test_a_message_sent_twice_in_one_run_is_processed_once_and_reported_skipped(app, store):
    first = entry("a", "I love tea.", 1.0)
    store.put(inbox_namespace(THREAD), "a", first)
    store.put(inbox_namespace(THREAD), "b", resend(first, "b", 2.0))
    out = await app.ainvoke(INBOX_ONLY, config())
    [msg] = first["submissions"][0]["messages"]
    assert [m["id"] for m in out["processed"]] == [msg["id"]]
    assert out["skipped_message_ids"] == [msg["id"]]
    assert sorted(i.key for i in store.search(receipts_namespace(THREAD))) == ["a", "b"]


async def test_a_resubmission_of_processed_messages_still_gets_its_receipt(app, store):
    first = entry("a", "I love tea.", 1.0)
    store.put(inbox_namespace(THREAD), "a", first)
    await app.ainvoke(INBOX_ONLY, config())
    store.put(inbox_namespace(THREAD), "b", resend(first, "b", 2.0))
    out = await app.ainvoke(INBOX_ONLY, config())
    assert out["processed"] == [] and out["submissions"] == ["b"]
    assert store.get(receipts_namespace(THREAD), "b").value["message_ids"] == []


async def test_a_malformed_inbox_submission_is_named_by_its_inbox_key(app, store):
    bad = {"namespace": ["memories"], "submissions": [{"submission_id": "a", "messages": "hi"}]}
    store.put(inbox_namespace(THREAD), "k1", bad)
    with pytest.raises(InvalidPayloadError, match=r"^inbox\[k1\]\.messages: expected a list"):
        await app.ainvoke(INBOX_ONLY, config())


async def test_a_run_without_a_thread_processes_its_input_alone(store):
    from graphs.memory_manager.graph import builder

    app = builder.compile(store=store)  # in-process, no checkpointer: no thread at all
    out = await app.ainvoke({"messages": [{"role": "user", "content": "I love tea."}]})
    assert len(out["processed"]) == 1 and out["submissions"] == []


async def test_a_run_without_an_id_writes_receipts_with_an_empty_run_id(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    out = await app.ainvoke(INBOX_ONLY, config())
    assert out["run_id"] is None
    assert store.get(receipts_namespace(THREAD), "a").value["run_id"] == ""


class _Recorder:
    """An embedding function that records every text it is asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return [[1.0, 0.0] for _ in texts]


async def test_receipts_never_enter_the_vector_index_whatever_fields_it_embeds():
    from graphs.memory_manager.graph import builder

    embed = _Recorder()  # "$": a deployment that embeds whole documents
    store = InMemoryStore(index={"dims": 2, "embed": embed, "fields": ["$"]})
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0), index=False)
    out = await app.ainvoke(INBOX_ONLY, config(run_id="run-r"))
    assert store.get(receipts_namespace(THREAD), "a") is not None and out["changes"]["created"]
    assert embed.texts and not any("run-r" in t for t in embed.texts)  # memories only


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ({"kind": "Memory", "content": {"content": "I love tea."}}, ["content.content"]),
        ({"kind": "Note", "content": {"content": "I love tea."}}, None),
        ({"kind": "Memory", "content": {"content": "tea", "tags": ["x"]}}, None),
        ({"kind": "Memory", "content": "I love tea."}, None),
    ],
    ids=["Memory", "another kind", "Memory with more fields", "Memory not an object"],
)
def test_only_a_plain_memory_is_embedded_by_its_text_alone(value, fields):
    assert index_fields(value) == fields


def _history(store) -> list:
    return sorted(
        store.search(history_namespace(("memories",)), limit=100), key=lambda i: i.value["at"]
    )


async def test_every_change_a_run_makes_is_in_the_history_with_what_caused_it(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I live in Porto.", 1.0))
    out = await app.ainvoke(INBOX_ONLY, config(run_id="run-1"))
    [created] = _history(store)
    memory = store.search(("memories",))[0]
    assert created.value == {
        "namespace": ["memories"], "key": memory.key, "event": "created",
        "at": created.value["at"], "run_id": "run-1", "thread_id": THREAD, "submission_ids": ["a"],
        "message_ids": [m["id"] for m in out["processed"]], "before": None,
        "after": memory.value,
    }  # fmt: skip
    store.put(inbox_namespace(THREAD), "b", entry("b", "I moved to Lisbon.", 2.0))
    await app.ainvoke(INBOX_ONLY, config(run_id="run-2"))
    first, updated = _history(store)
    assert first.key == created.key and first.key < updated.key  # keys sort by time
    assert updated.value["event"] == "updated" and updated.value["key"] == memory.key
    assert updated.value["before"] == memory.value
    assert updated.value["after"] == store.get(("memories",), memory.key).value
    assert updated.value["submission_ids"] == ["b"] and updated.value["run_id"] == "run-2"


async def test_a_run_that_changes_nothing_adds_no_history(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    await app.ainvoke(INBOX_ONLY, config())
    store.put(inbox_namespace(THREAD), "b", entry("b", "I love tea!", 2.0))
    await app.ainvoke(INBOX_ONLY, config())
    assert [h.value["event"] for h in _history(store)] == ["created"]


class RecordingStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.puts: list = []

    async def abatch(self, ops):
        ops = list(ops)
        self.puts += [op for op in ops if type(op).__name__ == "PutOp"]
        return await super().abatch(ops)


@pytest.mark.parametrize(("days", "ttl"), [(None, 90 * 24 * 60.0), (0, None), (1, 24 * 60.0)])
async def test_history_is_kept_as_long_as_configured(days, ttl):
    from graphs.memory_manager.graph import builder

    store = RecordingStore()
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    store.put(inbox_namespace(THREAD), "a", entry("a", "I love tea.", 1.0))
    context = {} if days is None else {"history_days": days}
    await app.ainvoke(INBOX_ONLY, config(), context=context)
    [put] = [op for op in store.puts if op.namespace[0] == "reflection_history"]
    assert put.ttl == ttl and put.index is False


def test_history_skips_a_key_that_ends_as_it_began_and_numbers_the_rest_by_place():
    from graphs.memory_manager.commit import _expired, _history

    ns = ("memories",)
    ops = [
        {"namespace": ["memories"], "key": "same", "value": {"v": 1}},
        {"namespace": ["memories"], "key": "new", "value": {"v": 2}},
    ]
    found = {(ns, "same"): {"v": 1}, (ns, "new"): None}
    batch = {"namespace": ["memories"], "messages": [], "submission_ids": ["s"]}
    [put] = _history(ops, found, [batch], ("run-1", THREAD), 60.0, 1.5)
    assert put.key == history_key("new", 1.5, 1) and put.value["key"] == "new"
    assert put.ttl == 60.0 and put.value["submission_ids"] == ["s"]
    assert _expired(None, set()) == []  # not a search's answer: nothing to prune


async def test_an_extraction_marks_each_namespace_it_processed_messages_for(app, store):
    store.put(inbox_namespace(THREAD), "a", entry("a", "What time is it?", 1.0))
    before = time.time()
    await app.ainvoke(INBOX_ONLY, config(run_id="run-a", assistant_id="asst-1"))
    mark = store.get(activity_namespace(("memories",)), EXTRACTED_KEY)
    assert mark is not None, "a turn with no fact still means the namespace was not quiet"
    assert {k: v for k, v in mark.value.items() if k != "at"} == {
        "namespace": ["memories"], "run_id": "run-a", "assistant_id": "asst-1",
    }  # fmt: skip
    assert before <= mark.value["at"] <= time.time()
    # A run with no messages for a namespace marks nothing.
    await app.ainvoke(INBOX_ONLY, config(thread_id="22222222-2222-3333-4444-555555555555"))
    assert len(store.search(("reflection_activity",))) == 1
    # A run no assistant names (the graph run by hand) says so, rather than "None".
    store.put(inbox_namespace(THREAD), "b", entry("b", "What time is it now?", 2.0))
    await app.ainvoke(INBOX_ONLY, config(run_id="run-b"))
    mark = store.get(activity_namespace(("memories",)), EXTRACTED_KEY)
    assert mark is not None and (mark.value["run_id"], mark.value["assistant_id"]) == (
        "run-b",
        None,
    )
