"""Deletes memory-manager threads that have been idle longer than a TTL.

Every finished burst leaves a thread on the server: its runs, checkpoints and
receipts. ``langgraph.json``'s ``checkpointer.ttl`` removes them on LangGraph
Platform, but ``langgraph dev`` (the in-memory runtime) does not sweep at
all, and its queue scans every run it holds each time it polls, so start lag
and memory grow with every thread ever served. This sweeper runs inside the
server (one of the jobs of :mod:`graphs.server.jobs`) and works on any runtime.

A thread is deleted only when nothing accepted could be lost with it: it is
not busy, has no pending run, and its inbox is empty (a failed run leaves
its inbox entries, so such a thread is kept until a later run processes
them). Its receipts go with it. Memories are never touched: they live in
their own namespaces.

A deleted thread forgets which message ids it has seen, so a caller that
resends a conversation's full history after the TTL gets it processed once
more (the offline extractor overwrites the same keys; the LLM path sees the
existing memories and updates them).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from graphs.server.envvars import env_number
from graphs.server.lease import MIN_INTERVAL_SECONDS, each_slot
from sdk_client.contract import GRAPH_ID
from sdk_client.records import (
    DELIVERY_KEY,
    RUNS_PAGE,
    delivery_namespace,
    inbox_namespace,
    owner_prefix,
    read_pages,
    receipts_namespace,
)

__all__ = ["SweepSettings", "run_sweeper", "sweep_once"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepSettings:
    """When idle threads are deleted; read from the server's environment."""

    thread_ttl_minutes: float = 10080.0
    """``MEMORY_THREAD_TTL_MINUTES``: idle minutes before a thread is deleted (0 = never)."""

    interval_seconds: float = 300.0
    """``MEMORY_SWEEP_INTERVAL_SECONDS``: seconds between sweeps."""

    max_per_sweep: int = 1000
    """Threads deleted at most per sweep, so one sweep never stalls the server for long."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SweepSettings:
        """Settings from ``MEMORY_THREAD_TTL_MINUTES`` and ``MEMORY_SWEEP_INTERVAL_SECONDS``."""
        env = os.environ if env is None else env
        return cls(
            thread_ttl_minutes=env_number(env, "MEMORY_THREAD_TTL_MINUTES", cls.thread_ttl_minutes),
            interval_seconds=env_number(
                env, "MEMORY_SWEEP_INTERVAL_SECONDS", cls.interval_seconds, MIN_INTERVAL_SECONDS
            ),
        )

    @property
    def enabled(self) -> bool:
        """False when the TTL is 0: threads are kept for ever."""
        return self.thread_ttl_minutes > 0


def _updated_at(thread: Mapping[str, Any]) -> datetime:
    value = thread.get("updated_at") or thread.get("created_at")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _prefix(thread: Mapping[str, Any]) -> tuple[str, ...]:
    return owner_prefix((thread.get("metadata") or {}).get("owner"))


async def _removable(client: LangGraphClient, thread_id: str, prefix: tuple[str, ...]) -> bool:
    """True when deleting the thread cannot lose accepted work."""
    inbox = inbox_namespace(thread_id, prefix)
    if (await client.store.search_items(inbox, limit=1))["items"]:
        return False
    return not await client.runs.list(thread_id, status="pending", limit=1)


async def _delete_thread(client: LangGraphClient, thread_id: str, prefix: tuple[str, ...]) -> None:
    # Its inbox is empty (_removable); its receipts and delivery record go with it.
    receipts = receipts_namespace(thread_id, prefix)
    items = await read_pages(
        lambda limit, offset: client.store.search_items(receipts, limit=limit, offset=offset),
        key="items",
    )
    for item in items:
        await client.store.delete_item(receipts, item["key"])
    await client.store.delete_item(delivery_namespace(thread_id, prefix), DELIVERY_KEY)
    # Deleted meanwhile (by another process, or the user): nothing left to do.
    with contextlib.suppress(NotFoundError):
        await client.threads.delete(thread_id)


async def sweep_once(
    client: LangGraphClient, settings: SweepSettings, now: datetime | None = None
) -> int:
    """Delete this graph's threads idle for longer than the TTL; returns how many."""
    if not settings.enabled:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=settings.thread_ttl_minutes)

    def newer(found: list[Any]) -> bool:
        # Oldest first: once one is newer than the cutoff, so is the rest. Kept threads
        # (busy, or holding accepted work) are read past, so they never stall a sweep.
        return _updated_at(found[-1]) >= cutoff

    listed = await read_pages(
        lambda limit, offset: client.threads.search(
            metadata={"graph_id": GRAPH_ID},
            limit=limit,
            offset=offset,
            sort_by="updated_at",
            sort_order="asc",
        ),
        RUNS_PAGE,
        until=newer,
    )
    deleted = 0
    for thread in (t for t in listed if _updated_at(t) < cutoff):
        if deleted >= settings.max_per_sweep:
            break
        tid = str(thread["thread_id"])
        prefix = _prefix(thread)
        if thread.get("status") in ("idle", "error") and await _removable(client, tid, prefix):
            await _delete_thread(client, tid, prefix)
            deleted += 1
    return deleted


async def run_sweeper(client: LangGraphClient, settings: SweepSettings) -> None:
    """Sweep every ``interval_seconds`` until cancelled; a failed sweep is logged, not fatal.

    Each sweep is claimed first (:mod:`graphs.server.lease`), so however many server processes
    run this loop, one of them sweeps in each interval.
    """

    async def sweep() -> None:
        if n := await sweep_once(client, settings):
            ttl = settings.thread_ttl_minutes
            logger.info("memory-reflect: deleted %d threads idle > %s min", n, ttl)

    await each_slot(client, "thread sweep", settings.interval_seconds, sweep)
