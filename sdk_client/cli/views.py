"""What the CLI reads from the server: one snapshot per thread, found by thread or namespace.

The status itself (idle / pending / running, due time, inbox size) is computed by
:func:`sdk_client._flows.thread_status`, the same function the executor's
``status()`` uses; this module only fetches its inputs and the thread's last
result (the values the graph's ``commit`` step leaves in the thread state).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk.client import SyncLangGraphClient

from sdk_client import contract
from sdk_client._flows import Flows, delivery_of, run_sync, thread_status
from sdk_client.contract import GRAPH_ID, validate_thread_id
from sdk_client.records import (
    DELIVERY_KEY,
    delivery_namespace,
    inbox_count,
    inboxes_namespace,
    thread_of_inbox,
)
from sdk_client.types import ModelUsage, ThreadStatus

__all__ = [
    "GRAPH_ID",
    "LastRun",
    "ThreadSnapshot",
    "parse_namespace",
    "snapshot",
    "thread_ids_in",
]


def parse_namespace(text: str) -> tuple[str, ...]:
    """Parse a ``--namespace``: ``memories/alice``, or a JSON list for labels with ``/``.

    Raises:
        InvalidPayloadError: bad JSON, empty, or a malformed label (the message names it).
    """
    return contract.parse_namespace(text, "--namespace")


@dataclass(frozen=True)
class LastRun:
    """What the last finished run on a thread processed and changed (from the thread state)."""

    run_id: str
    messages: int
    submissions: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    namespaces: list[tuple[str, ...]] = field(default_factory=list)
    finished_at: float | None = None
    usage: ModelUsage | None = None
    """Model calls, tokens and model time; None from a server that does not record them."""

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | None) -> LastRun | None:
        """Read the thread state the graph's ``commit`` left; None if no run finished yet."""
        if not values or not values.get("run_id") or "processed" not in values:
            return None
        changes = values.get("changes") or {}
        timing = values.get("timing") or {}
        return cls(
            run_id=str(values["run_id"]),
            messages=len(values.get("processed") or []),
            submissions=len(values.get("submissions") or []),
            created=list(changes.get("created", [])),
            updated=list(changes.get("updated", [])),
            deleted=list(changes.get("deleted", [])),
            namespaces=[tuple(ns) for ns in values.get("namespaces") or []],
            finished_at=timing.get("finished_at"),
            usage=ModelUsage.of(values),
        )


@dataclass(frozen=True)
class ThreadSnapshot:
    """One thread as the CLI shows it."""

    status: ThreadStatus
    last: LastRun | None
    label: str

    @property
    def thread_id(self) -> str:
        """The server thread (a UUID)."""
        return self.status.thread_id

    @property
    def busy(self) -> bool:
        """Work is pending, running, or accepted and not processed yet."""
        return self.status.state != "idle" or self.status.inbox > 0


def _inbox_items(client: SyncLangGraphClient, prefix: Sequence[str]) -> list[dict[str, Any]]:
    return run_sync(Flows.read_all(tuple(prefix)), client)


def _inbox_by_thread(items: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    by_thread: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        by_thread.setdefault(thread_of_inbox(item["namespace"]), []).append(item)
    return by_thread


def thread_ids_in(client: SyncLangGraphClient, namespace: tuple[str, ...], limit: int) -> list[str]:
    """Threads with work for ``namespace``: accepted and unprocessed, or processed lately.

    Pending and running work is found in the inbox (its entries name their
    namespace); finished work in the thread state (``namespaces`` of the last run),
    among the ``limit`` most recently updated memory-manager threads.
    """
    found: list[str] = []
    for tid, items in _inbox_by_thread(_inbox_items(client, inboxes_namespace())).items():
        if any(tuple(i["value"].get("namespace") or ()) == namespace for i in items):
            found.append(tid)
    threads = client.threads.search(
        metadata={"graph_id": GRAPH_ID}, limit=limit, sort_by="updated_at", sort_order="desc"
    )
    for thread in threads:
        last = LastRun.from_values(thread.get("values"))
        tid = str(thread["thread_id"])
        if last and namespace in last.namespaces and tid not in found:
            found.append(tid)
    return found


def _runs(client: SyncLangGraphClient, thread_id: str) -> list[Mapping[str, Any]]:
    # The executor's own read (every page), so the CLI and status() agree.
    return run_sync(Flows.inflight(thread_id), client)


def snapshot(
    client: SyncLangGraphClient, thread_ids: Sequence[str], labels: Mapping[str, str] | None = None
) -> list[ThreadSnapshot]:
    """Fetch each thread's status and last result, in the order given.

    A thread the server does not know (never submitted to, or swept) shows as idle.
    """
    labels = labels or {}
    inbox = _inbox_by_thread(_inbox_items(client, inboxes_namespace())) if thread_ids else {}
    views = []
    for tid in thread_ids:
        try:
            thread: Mapping[str, Any] | None = client.threads.get(tid)
        except httpx.HTTPStatusError as err:
            if err.response.status_code != 404:
                raise
            thread = None
        items = inbox.get(tid, [])
        # Runs are listed only for threads that may have some: a quiet thread costs one GET.
        busy = thread is not None and (thread.get("status") != "idle" or items)
        runs = _runs(client, tid) if busy else []
        # Only a thread with waiting work can be retrying or parked.
        delivery = delivery_of(_delivery(client, tid)) if items else None
        views.append(
            ThreadSnapshot(
                status=thread_status(tid, runs, inbox_count(items), delivery),
                last=LastRun.from_values(thread.get("values") if thread else None),
                label=labels.get(tid, tid[:8]),
            )
        )
    return views


def _delivery(client: SyncLangGraphClient, thread_id: str) -> Mapping[str, Any] | None:
    item = client.store.get_item(list(delivery_namespace(thread_id)), DELIVERY_KEY)
    return dict(item) if item else None


def resolve_threads(keys: Sequence[str], api_key: str | None = None) -> dict[str, str]:
    """Server thread ids for the ``--thread`` keys given, mapped to the key as typed.

    ``api_key``: the key the CLI sends; on a keyed server it is part of the mapping.
    """
    return {validate_thread_id(key, "--thread", api_key=api_key): key for key in keys}
