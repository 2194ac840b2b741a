"""Step 1, ``gather``: collect everything the run should process.

The run's own input is only the newest submission: ``rollback`` deleted the
runs it superseded together with their input. Their messages survive in the
thread's inbox (a store namespace the executor writes before creating the
run), so the run reads the inbox too, drops messages an earlier run already
processed, and groups the rest by memory namespace.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, Item

from graphs.memory_manager.context import Context, context_of
from graphs.memory_manager.runs import placeholder_values, require_store, run_id, thread_id_of
from graphs.memory_manager.state import Batch, ProcessedMessage, State, Timing
from sdk_client.contract import normalize_payload, resolve_namespace
from sdk_client.records import InboxEntry, entry_submitted_at, inbox_namespace, read_pages

__all__ = ["gather", "read_inbox"]


async def read_inbox(store: BaseStore, thread_id: str) -> list[Item]:
    """Every inbox item of a thread, oldest submission first."""
    namespace = inbox_namespace(thread_id)
    items: list[Item] = await read_pages(
        lambda limit, offset: store.asearch(namespace, limit=limit, offset=offset)
    )
    return sorted(items, key=lambda item: (entry_submitted_at(item.value), item.key))


class _Collector:
    """Builds batches, skipping messages seen before (in earlier runs or this batch)."""

    def __init__(self, seen: set[str]) -> None:
        self.seen = seen
        self.skipped: list[str] = []
        self.batches: dict[tuple[str, ...], Batch] = {}

    def add(
        self,
        namespace: tuple[str, ...],
        submission_id: str | None,
        payload: Mapping[str, Any],
        root: str,
    ) -> None:
        batch = self.batches.setdefault(
            namespace, {"namespace": list(namespace), "messages": [], "submission_ids": []}
        )
        if submission_id and submission_id not in batch["submission_ids"]:
            batch["submission_ids"].append(submission_id)
        for msg in normalize_payload(payload, root):
            if msg["id"] in self.seen:
                self.skipped.append(msg["id"])
                continue
            self.seen.add(msg["id"])
            record: ProcessedMessage = {**msg, "submission_id": submission_id}
            batch["messages"].append(record)


def _timing(entries: list[InboxEntry], started_at: float) -> Timing:
    subs = [s for e in entries for s in e.get("submissions", [])]
    submitted = [float(s["submitted_at"]) for s in subs]
    due = [float(s["submitted_at"]) + float(s.get("after_seconds", 0)) for s in subs]
    return {
        "first_submitted_at": min(submitted, default=None),
        "last_submitted_at": max(submitted, default=None),
        "due_at": max(due, default=None),
        "started_at": started_at,
    }


async def gather(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Collect the run's input plus the thread's inbox into per-namespace batches."""
    started_at = time.time()
    store = require_store(runtime)
    configurable = get_config().get("configurable", {})
    run_namespace = resolve_namespace(
        context_of(runtime).namespace, placeholder_values(configurable), "context.namespace"
    )
    if state.get("consolidate"):  # no conversation: the namespace's memories (extract)
        batch: Batch = {"namespace": list(run_namespace), "messages": [], "submission_ids": []}
        timing: Timing = {"started_at": started_at}
        return {"batches": [batch], "run_id": run_id(), "timing": timing}
    thread_id = thread_id_of(configurable)
    items = await read_inbox(store, thread_id) if thread_id else []
    entries: list[InboxEntry] = [item.value for item in items]  # type: ignore[misc]

    collector = _Collector(set(state.get("seen_message_ids") or []))
    for item, entry in zip(items, entries, strict=True):
        namespace = resolve_namespace(
            entry.get("namespace") or run_namespace, {}, "inbox.namespace"
        )
        for sub in entry.get("submissions", []):
            collector.add(namespace, sub.get("submission_id"), sub, f"inbox[{item.key}]")
    if not _is_redelivery(state):
        own_id = state.get("submission_id")
        if not own_id or not any(own_id in b["submission_ids"] for b in collector.batches.values()):
            # The input is processed unless its inbox entry was read above (a server without
            # capture, or an in-process run, may have none).
            collector.add(run_namespace, own_id, state, "input")

    return {
        "batches": [b for b in collector.batches.values() if b["messages"] or b["submission_ids"]],
        "inbox_keys": [item.key for item in items],
        "skipped_message_ids": collector.skipped,
        "run_id": run_id(),
        "timing": _timing(entries, started_at),
    }


def _is_redelivery(state: State) -> bool:
    """A redeliverer's run: it brings no messages of its own, only the inbox to process."""
    return bool(state.get("redelivery")) and not state.get("messages")
