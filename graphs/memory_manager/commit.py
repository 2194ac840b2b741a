"""Step 3, ``commit``: write the memories, leave receipts, acknowledge the inbox.

The order is what makes "nothing accepted is lost" hold:

1. apply the staged memory writes, record each change in the memory's history, and
   write one receipt per processed submission (the client's Futures wait for these),
   in one store batch;
2. then delete exactly the inbox items ``gather`` read, no others.

If the run dies anywhere before step 2 finishes, the inbox items are still
there and the next run processes them again; memory keys are deterministic
(offline) or found by langmem's search (LLM), so a redo updates rather than
duplicates. Entries that arrived after ``gather`` are never deleted here.

Everything the writes depend on (each staged key's value, the delivery record,
the receipts to prune) is read first, in one batch: three store round trips in
all, however many memories a run writes. Each would otherwise be a round trip of
its own (a query on Postgres, a walk of every namespace for a search on the dev
server).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import GetOp, Item, Op, PutOp, Result, SearchOp

from graphs.memory_manager.change_text import change_text
from graphs.memory_manager.consolidate import CONSOLIDATION
from graphs.memory_manager.context import Context, context_of
from graphs.memory_manager.runs import memory_path, require_store, thread_id_of
from graphs.memory_manager.state import Batch, Changes, StagedOp, State, Usage, value_digest
from graphs.memory_manager.usage import usage_of
from sdk_client.records import (
    DELIVERY_KEY,
    EXTRACTED_KEY,
    RECEIPT_MAX_AGE_S,
    RUNS_PAGE,
    activity_namespace,
    delivery_namespace,
    expired_receipts,
    extraction_record,
    history_entry,
    history_key,
    history_namespace,
    history_ttl_minutes,
    inbox_namespace,
    receipt,
    receipts_namespace,
)

__all__ = ["RECEIPT_MAX_AGE_S", "commit", "index_fields"]

logger = logging.getLogger(__name__)


def index_fields(value: dict[str, Any]) -> list[str] | None:
    """The fields to embed for a memory: a langmem ``Memory`` by its text alone.

    ``langgraph.json`` indexes ``content.content`` (a ``Memory``'s text) and
    ``content`` (a typed memory's whole object). A ``Memory`` has both, and the
    second would embed the same text again, wrapped in JSON: twice the embedding
    work and vector memory for nothing. ``None`` keeps the configured fields.
    """
    content = value.get("content")
    if value.get("kind") == "Memory" and isinstance(content, dict) and set(content) == {"content"}:
        return ["content.content"]
    return None


Key = tuple[tuple[str, ...], str]


def _still_planned(ops: list[StagedOp], found: dict[Key, dict[str, Any] | None]) -> list[StagedOp]:
    """The ops, less the retirements of memories written since they were planned.

    A consolidation run plans over a snapshot; an extraction that commits a newer value
    of a memory meanwhile (the user spoke) must win, or the latest fact would be retired.
    """
    kept = []
    for op in ops:
        key: Key = (tuple(op["namespace"]), op["key"])
        digest, now = op.get("unless_changed"), found.get(key)
        if digest is not None and now is not None and value_digest(now) != digest:
            logger.info("memory-reflect: %s changed since its retirement was planned; kept",
                        memory_path(*key))  # fmt: skip
            continue
        kept.append(op)
    return kept


def _plan(
    ops: list[StagedOp], found: dict[Key, dict[str, Any] | None]
) -> tuple[Changes, dict[str, Any], list[PutOp]]:
    """The writes the staged ops come to, given each key's value now (``found``).

    Returns what changed, each path's value before the run wrote it, and the writes.
    The ops apply in order: a later op on the same key sees the earlier one's value.
    """
    current = dict(found)
    changes: Changes = {"created": [], "updated": [], "deleted": []}
    before: dict[str, Any] = {}
    writes: list[PutOp] = []
    for op in ops:
        key: Key = (tuple(op["namespace"]), op["key"])
        existing = current.get(key)
        path = memory_path(*key)
        before.setdefault(path, existing)
        if op["value"] is None:
            if existing is not None:
                writes.append(PutOp(*key, None))
                changes["deleted"].append(path)
        elif existing != op["value"]:
            writes.append(PutOp(*key, op["value"], index=index_fields(op["value"])))
            changes["created" if existing is None else "updated"].append(path)
        current[key] = op["value"]
    return changes, before, writes


def _history(
    ops: list[StagedOp],
    found: dict[Key, dict[str, Any] | None],
    batches: list[Batch],
    run: tuple[str | None, str | None],
    ttl_minutes: float | None,
    now: float,
    cause: str | None = None,
) -> list[PutOp]:
    """One history entry per memory the run changed: its value before the run and after.

    A key written several times in one run is one change (first value to last); a
    key whose value ends as it began is none. Each entry names the submissions and
    messages of the namespace's batch, which is what the run extracted it from, and the
    run: ``(run_id, thread_id)``.
    """
    run_id, thread_id = run
    after = dict(found)
    # A staged op may say why itself (forgetting, inside a consolidation run); the last
    # op on a key says why for its change.
    why: dict[Key, tuple[str | None, str | None]] = {}
    for op in ops:
        after[(tuple(op["namespace"]), op["key"])] = op["value"]
        why[(tuple(op["namespace"]), op["key"])] = (op.get("cause", cause), op.get("reason"))
    by_namespace = {tuple(b["namespace"]): b for b in batches}
    writes = []
    for seq, key in enumerate(dict.fromkeys((tuple(op["namespace"]), op["key"]) for op in ops)):
        if found.get(key) == after[key]:
            continue
        namespace, memory_key = key
        batch = by_namespace.get(namespace)
        op_cause, reason = why[key]
        entry = history_entry(
            namespace, memory_key, found.get(key), after[key], now,
            run_id=run_id, thread_id=thread_id, cause=op_cause, reason=reason,
            submission_ids=batch["submission_ids"] if batch else (),
            message_ids=[m["id"] for m in batch["messages"]] if batch else (),
        )  # fmt: skip
        writes.append(
            PutOp(
                history_namespace(namespace),
                history_key(memory_key, now, seq),
                dict(entry),
                index=False,
                ttl=ttl_minutes,
            )
        )
    return writes


def _activity(batches: list[Batch], run_id: str | None, now: float) -> list[PutOp]:
    """An extraction's mark on each namespace it processed messages for (the quiet job's clock).

    Written whether or not a memory changed: the conversation went on, so the namespace
    was not quiet. The assistant is kept so the quiet job consolidates with its settings.
    """
    config = get_config()
    assistant_id = config.get("configurable", {}).get("assistant_id") or config.get(
        "metadata", {}
    ).get("assistant_id")
    assistant = str(assistant_id) if assistant_id else None
    return [
        PutOp(
            activity_namespace(b["namespace"]),
            EXTRACTED_KEY,
            dict(extraction_record(b["namespace"], now, run_id, assistant)),
            index=False,
        )
        for b in batches
        if b["messages"]
    ]


def _values(keys: list[Key], answers: list[Result]) -> dict[Key, dict[str, Any] | None]:
    """Each key's value, from the read batch's answers to its ``GetOp``s."""
    return {k: a.value if isinstance(a, Item) else None for k, a in zip(keys, answers, strict=True)}


def _receipts(
    thread_id: str, batches: list[Batch], run_id: str | None, changes: Changes, usage: Usage
) -> list[PutOp]:
    now = time.time()
    namespace = receipts_namespace(thread_id)
    writes = []
    for batch in batches:
        ids = [m["id"] for m in batch["messages"]]
        for sid in batch["submission_ids"]:
            value = receipt(sid, run_id or "", ids, changes, usage, now)
            writes.append(PutOp(namespace, sid, dict(value), index=False))
    return writes


def _acknowledgement_reads(thread_id: str) -> list[Op]:
    # The delivery record (deleted only if there, as a delete of nothing still leaves an
    # empty namespace behind) and one page of receipts to prune (one page per run keeps
    # this cheap).
    return [
        GetOp(delivery_namespace(thread_id), DELIVERY_KEY),
        SearchOp(receipts_namespace(thread_id), limit=RUNS_PAGE),
    ]


def _acknowledgements(
    thread_id: str, inbox_keys: list[str], answers: list[Result], written: list[PutOp]
) -> list[PutOp]:
    """Deletes: the inbox items gathered, the delivery record, receipts nobody came back for.

    ``answers`` answer :func:`_acknowledgement_reads`.
    """
    delivery, receipts = answers
    deletes = [PutOp(inbox_namespace(thread_id), key, None) for key in inbox_keys]
    # Processing works again: the redeliverer's count (and any parking) starts over.
    if isinstance(delivery, Item):
        deletes.append(PutOp(delivery_namespace(thread_id), DELIVERY_KEY, None))
    fresh = {op.key for op in written if op.namespace == receipts_namespace(thread_id)}
    deletes += [PutOp(item.namespace, item.key, None) for item in _expired(receipts, fresh)]
    return deletes


def _expired(receipts: Result, fresh: set[str]) -> list[Item]:
    items = [i for i in (receipts if isinstance(receipts, list) else []) if isinstance(i, Item)]
    return expired_receipts(
        items, lambda i: float(i.value.get("processed_at", 0)), fresh, lambda i: i.key
    )


async def commit(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Apply staged writes, write receipts, then delete the inbox items gathered."""
    store = require_store(runtime)
    batches = state.get("batches") or []
    ops = state.get("ops") or []
    thread_id = thread_id_of(get_config().get("configurable", {}))
    keys: list[Key] = list(dict.fromkeys((tuple(op["namespace"]), op["key"]) for op in ops))
    reads: list[Op] = [GetOp(*key) for key in keys]
    if thread_id:
        reads += _acknowledgement_reads(thread_id)
    answers = await store.abatch(reads) if reads else []
    found, acknowledgement_answers = answers[: len(keys)], answers[len(keys) :]
    values = _values(keys, found)
    ops = _still_planned(ops, values)
    changes, before, writes = _plan(ops, values)
    ttl = history_ttl_minutes(context_of(runtime).history_days)
    run = (state.get("run_id"), thread_id)
    cause = CONSOLIDATION if state.get("consolidate") else None
    now = time.time()
    writes += _history(ops, values, batches, run, ttl, now, cause)
    # A consolidation run has no batches, so it marks no namespace as extracted into.
    writes += _activity(batches, state.get("run_id"), now)
    if thread_id:
        writes += _receipts(thread_id, batches, state.get("run_id"), changes, usage_of(state))
    if writes:
        await store.abatch(writes)
    if thread_id:
        inbox_keys = list(state.get("inbox_keys") or [])
        acknowledged = _acknowledgements(thread_id, inbox_keys, acknowledgement_answers, writes)
        if acknowledged:
            await store.abatch(acknowledged)
    processed = [m for b in batches for m in b["messages"]]
    return {
        "processed": processed,
        "submissions": [sid for b in batches for sid in b["submission_ids"]],
        # Lets a client find a namespace's threads (the CLI's status/watch) from thread values.
        "namespaces": [b["namespace"] for b in batches],
        "changes": changes,
        "change_text": change_text(changes, ops, before),  # each changed memory's text
        "seen_message_ids": [m["id"] for m in processed],
        "timing": {**(state.get("timing") or {}), "finished_at": time.time()},
        # Clear the working fields so the thread state shows results, not scratch data.
        "batches": [],
        "ops": [],
        "inbox_keys": [],
    }
