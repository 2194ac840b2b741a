"""Step 3, ``commit``: write the memories, leave receipts, acknowledge the inbox.

The order is what makes "nothing accepted is lost" hold:

1. apply the staged memory writes;
2. write one receipt per processed submission (the client's Futures wait for these);
3. delete exactly the inbox items ``gather`` read, no others.

If the run dies anywhere before step 3 finishes, the inbox items are still
there and the next run processes them again; memory keys are deterministic
(offline) or found by langmem's search (LLM), so a redo updates rather than
duplicates. Entries that arrived after ``gather`` are never deleted here.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from graphs.memory_manager.change_text import change_text
from graphs.memory_manager.context import Context
from graphs.memory_manager.runs import memory_path, require_store, thread_id_of
from graphs.memory_manager.state import Batch, Changes, StagedOp, State, Usage
from graphs.memory_manager.usage import usage_of
from sdk_client.contract import (
    DELIVERY_KEY,
    Receipt,
    delivery_namespace,
    inbox_namespace,
    receipts_namespace,
)

__all__ = ["RECEIPT_MAX_AGE_S", "commit", "index_fields"]

RECEIPT_MAX_AGE_S = 24 * 3600
"""Receipts older than this are pruned when a later run on the thread commits."""


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


async def _apply(store: BaseStore, ops: list[StagedOp]) -> tuple[Changes, dict[str, Any]]:
    """Write the staged ops; what changed, and each path's value before the run wrote it."""
    changes: Changes = {"created": [], "updated": [], "deleted": []}
    before: dict[str, Any] = {}
    for op in ops:
        namespace = tuple(op["namespace"])
        existing = await store.aget(namespace, op["key"])
        path = memory_path(namespace, op["key"])
        before.setdefault(path, None if existing is None else existing.value)
        if op["value"] is None:
            if existing is not None:
                await store.adelete(namespace, op["key"])
                changes["deleted"].append(path)
        elif existing is None or existing.value != op["value"]:
            await store.aput(namespace, op["key"], op["value"], index=index_fields(op["value"]))
            changes["created" if existing is None else "updated"].append(path)
    return changes, before


async def _write_receipts(
    store: BaseStore,
    thread_id: str,
    batches: list[Batch],
    run_id: str | None,
    changes: Changes,
    usage: Usage,
) -> None:
    now = time.time()
    for batch in batches:
        ids = [m["id"] for m in batch["messages"]]
        for sid in batch["submission_ids"]:
            receipt: Receipt = {
                "submission_id": sid,
                "run_id": run_id or "",
                "processed_at": now,
                "message_ids": ids,
                **changes,
                "usage": usage,
            }
            await store.aput(receipts_namespace(thread_id), sid, dict(receipt), index=False)


async def _prune_receipts(store: BaseStore, thread_id: str) -> None:
    # Receipts are read (and deleted) by the client that waits on them; these are the
    # ones nobody came back for. One page per run keeps this cheap.
    cutoff = time.time() - RECEIPT_MAX_AGE_S
    for item in await store.asearch(receipts_namespace(thread_id), limit=100):
        if float(item.value.get("processed_at", 0)) < cutoff:
            await store.adelete(item.namespace, item.key)


async def commit(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Apply staged writes, write receipts, then delete the inbox items gathered."""
    store = require_store(runtime)
    batches = state.get("batches") or []
    ops = state.get("ops") or []
    changes, before = await _apply(store, ops)
    thread_id = thread_id_of(get_config().get("configurable", {}))
    if thread_id:
        run_id = state.get("run_id")
        await _write_receipts(store, thread_id, batches, run_id, changes, usage_of(state))
        for key in state.get("inbox_keys") or []:
            await store.adelete(inbox_namespace(thread_id), key)
        # Processing works again: the redeliverer's count (and any parking) starts over.
        # Looked up first: a delete of nothing still leaves an empty namespace behind.
        if await store.aget(delivery_namespace(thread_id), DELIVERY_KEY) is not None:
            await store.adelete(delivery_namespace(thread_id), DELIVERY_KEY)
        await _prune_receipts(store, thread_id)
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
