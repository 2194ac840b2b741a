"""Redelivery: the server runs stranded work again, with no new submission.

Accepted work sits in a thread's inbox until a run commits it. If that run
fails (a model outage), is lost (a server killed before it ran) or was never
created (a client killed between its two requests), nothing would process
the inbox until the thread's next submission, which may never come. This
module, run by :mod:`graphs.server.jobs` next to the sweeper, scans the inbox
namespaces every ``interval_seconds`` and, for a thread whose oldest entry is
past due by ``grace_seconds`` with no run pending or running, creates a run
that processes the inbox (input ``{"messages": [], "redelivery": n}``; see
``gather``), created as the thread's owner and the way the entry's own run was
(:class:`~sdk_client.records.RunSpec`).

Attempts back off exponentially with jitter (:meth:`RedeliverySettings.delay`);
after ``attempts`` of them the thread's work is **parked**: never deleted,
recorded with the last error in the thread's delivery record (which
``status``, the CLI and the inspector show), and run again by
``memory-reflect retry`` or by the thread's next submission. The record is
deleted by the next run that commits on the thread. Runs are created with
``multitask_strategy="reject"``, so at most one attempt is in flight per
thread, across server processes too; and one process scans in each interval
(:mod:`graphs.server.lease`), so an attempt is counted once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError

from graphs.server import access
from graphs.server.envvars import env_int, env_number
from graphs.server.lease import MIN_INTERVAL_SECONDS, each_slot
from sdk_client.contract import GRAPH_ID
from sdk_client.records import (
    DELIVERY_KEY,
    DeliveryRecord,
    delivery_namespace,
    delivery_record,
    entry_due,
    inboxes_namespace,
    newest_run_spec,
    read_pages,
    store_prefixes,
    thread_of_inbox,
)

__all__ = [
    "Park",
    "Redeliver",
    "Redeliverer",
    "RedeliverySettings",
    "ThreadView",
    "Wait",
    "decide",
    "run_redeliverer",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedeliverySettings:
    """When and how often stranded work is run again; read from the server's environment."""

    attempts: int = 5
    """``MEMORY_REDELIVERY_ATTEMPTS``: runs the server creates before it parks the work
    (0 = off: failed work waits for the thread's next submission)."""

    backoff_seconds: float = 15.0
    """``MEMORY_REDELIVERY_BACKOFF_SECONDS``: wait after the first attempt; doubles each time."""

    max_backoff_seconds: float = 240.0
    """``MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS``: the longest wait between two attempts."""

    grace_seconds: float = 30.0
    """``MEMORY_REDELIVERY_GRACE_SECONDS``: how long past due an entry may wait for its own run."""

    interval_seconds: float = 5.0
    """``MEMORY_REDELIVERY_INTERVAL_SECONDS``: seconds between two scans."""

    max_per_scan: int = 50
    """Threads with late entries looked at per scan (the oldest first)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RedeliverySettings:
        """Settings from the ``MEMORY_REDELIVERY_*`` variables (defaults absorb ~4-8 min)."""
        env = os.environ if env is None else env
        return cls(
            attempts=env_int(env, "MEMORY_REDELIVERY_ATTEMPTS", cls.attempts),
            backoff_seconds=env_number(
                env, "MEMORY_REDELIVERY_BACKOFF_SECONDS", cls.backoff_seconds
            ),
            max_backoff_seconds=env_number(
                env, "MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS", cls.max_backoff_seconds
            ),
            grace_seconds=env_number(env, "MEMORY_REDELIVERY_GRACE_SECONDS", cls.grace_seconds),
            interval_seconds=env_number(
                env,
                "MEMORY_REDELIVERY_INTERVAL_SECONDS",
                cls.interval_seconds,
                MIN_INTERVAL_SECONDS,
            ),
        )

    @property
    def enabled(self) -> bool:
        """False when ``attempts`` is 0."""
        return self.attempts > 0

    def delay(self, attempt: int, jitter: float) -> float:
        """Seconds to wait after attempt ``attempt`` (1-based).

        ``jitter`` in [0, 1) takes up to half of it off, so threads that failed
        together do not retry together.
        """
        full = min(self.max_backoff_seconds, self.backoff_seconds * 2.0 ** (attempt - 1))
        return float(full * (1 - jitter / 2))


@dataclass(frozen=True)
class ThreadView:
    """What the redeliverer knows about one thread with a non-empty inbox."""

    oldest_due: float
    """The earliest ``submitted_at + after_seconds`` among its inbox entries."""
    busy: bool
    """A run is pending or running on it: that run will read the inbox."""
    record: DeliveryRecord | None


@dataclass(frozen=True)
class Wait:
    """Nothing to do now."""


@dataclass(frozen=True)
class Redeliver:
    """Create attempt ``attempt``; if it fails too, the next one may start at ``next_at``."""

    attempt: int
    next_at: float


@dataclass(frozen=True)
class Park:
    """Every attempt failed: keep the work and stop trying until asked."""


def decide(
    view: ThreadView, now: float, settings: RedeliverySettings, jitter: float
) -> Wait | Redeliver | Park:
    """The one decision about a thread with inbox entries (pure, so it is tested alone)."""
    record = view.record
    if view.busy or now < view.oldest_due + settings.grace_seconds:
        return Wait()
    if record is not None and (record["parked"] or now < (record["next_at"] or 0.0)):
        return Wait()
    done = record["attempts"] if record is not None else 0
    if done >= settings.attempts:
        return Park()
    return Redeliver(done + 1, now + settings.delay(done + 1, jitter))


RunsAs = Callable[[str | None], Awaitable[LangGraphClient]]
"""Gives a client whose requests are authenticated as an identity (None: open mode)."""


class Redeliverer:
    """Scans inboxes and acts on :func:`decide` (reads through the unauthenticated loopback)."""

    def __init__(self, reader: LangGraphClient, runs_as: RunsAs, settings: RedeliverySettings):
        self._reader = reader
        self._runs_as = runs_as
        self._settings = settings

    @property
    def reader(self) -> LangGraphClient:
        """The unauthenticated loopback client it reads (and claims its scans) with."""
        return self._reader

    async def scan_once(self, now: float | None = None) -> dict[str, int]:
        """Look once at every thread whose inbox holds entries past due; counts of what was done.

        At most ``max_per_scan`` threads are looked at, oldest entries first, so a backlog
        (a wave of runs queued behind the workers) costs each scan a bounded number of
        requests.
        """
        now = time.time() if now is None else now
        counts = {"redelivered": 0, "parked": 0}
        for prefix in store_prefixes(access.ACCESS.identities):
            inboxes = await self._inboxes(prefix)
            for thread_id in self._late(inboxes, now)[: self._settings.max_per_scan]:
                outcome = await self._thread(prefix, thread_id, inboxes[thread_id], now)
                if outcome in counts:
                    counts[outcome] += 1
        return counts

    def _late(self, inboxes: Mapping[str, list[dict[str, Any]]], now: float) -> list[str]:
        """Threads whose oldest entry is past due by the grace period, oldest first."""
        oldest = {tid: min(entry_due(i["value"]) for i in items) for tid, items in inboxes.items()}
        late = [t for t, due in oldest.items() if now >= due + self._settings.grace_seconds]
        return sorted(late, key=oldest.__getitem__)

    async def _inboxes(self, prefix: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
        """Every inbox entry under ``prefix``, by thread id (one search, not one per thread)."""
        namespace = inboxes_namespace(prefix)
        items = await read_pages(
            lambda limit, offset: self._reader.store.search_items(
                namespace, limit=limit, offset=offset
            ),
            key="items",
        )
        by_thread: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_thread.setdefault(thread_of_inbox(item["namespace"]), []).append(dict(item))
        return by_thread

    async def _thread(
        self, prefix: tuple[str, ...], thread_id: str, items: list[dict[str, Any]], now: float
    ) -> str:
        view = ThreadView(
            oldest_due=min(entry_due(item["value"]) for item in items),
            busy=await self._busy(thread_id),
            record=await self._record(prefix, thread_id),
        )
        action = decide(view, now, self._settings, random.random())
        if isinstance(action, Wait):
            return "wait"
        last_error, last_run = await self._last_failure(thread_id)
        if isinstance(action, Park):
            await self._save(prefix, thread_id, view, now, parked=True, error=last_error,
                             run_id=last_run)  # fmt: skip
            logger.warning(
                "memory-reflect: thread %s parked after %d attempts (%s); "
                "`memory-reflect retry -t %s` runs it again",
                thread_id, self._settings.attempts, last_error, thread_id,
            )  # fmt: skip
            return "parked"
        created = await self._create_run(prefix, thread_id, items, action.attempt)
        if created is None:
            return "wait"  # another process (or the user) started a run meanwhile
        await self._save(prefix, thread_id, view, now, attempts=action.attempt,
                         next_at=action.next_at, error=last_error, run_id=created)  # fmt: skip
        logger.info(
            "memory-reflect: redelivering thread %s, attempt %d of %d (run %s)",
            thread_id, action.attempt, self._settings.attempts, created,
        )  # fmt: skip
        return "redelivered"

    async def _busy(self, thread_id: str) -> bool:
        try:
            for status in ("running", "pending"):
                if await self._reader.runs.list(thread_id, status=status, limit=1):
                    return True
        except NotFoundError:  # the thread was never created: its run never was either
            return False
        return False

    async def _record(self, prefix: tuple[str, ...], thread_id: str) -> DeliveryRecord | None:
        item = await self._reader.store.get_item(
            delivery_namespace(thread_id, prefix), DELIVERY_KEY
        )
        return item["value"] if item else None  # type: ignore[return-value]

    async def _last_failure(self, thread_id: str) -> tuple[str, str | None]:
        """What happened to the thread's latest run, for the record and the log."""
        try:
            runs = await self._reader.runs.list(thread_id, limit=1)
        except NotFoundError:
            return "no run was ever created for this work", None
        if not runs:
            return "no run of this work is left (lost or never created)", None
        run = runs[0]
        rid, status = str(run["run_id"]), str(run["status"])
        detail = ""
        if status == "error":
            try:
                out = await asyncio.wait_for(self._reader.runs.join(thread_id, rid), 5)
                err = (out or {}).get("__error__") if isinstance(out, dict) else None
                detail = f": {err.get('error')}: {err.get('message')}" if err else ""
            except Exception:  # the detail is a courtesy; the status is the fact
                detail = ""
        return f"run {rid} ended {status}{detail}", rid

    async def _create_run(
        self, prefix: tuple[str, ...], thread_id: str, items: list[dict[str, Any]], attempt: int
    ) -> str | None:
        spec = newest_run_spec(items, GRAPH_ID)
        client = await self._runs_as(prefix[0] if prefix else None)
        try:
            run = await client.runs.create(
                thread_id,
                spec.get("assistant_id", GRAPH_ID),
                input={"messages": [], "redelivery": attempt},
                config=cast(Any, spec.get("config")),
                context=spec.get("context"),
                multitask_strategy="reject",
                if_not_exists="create",
                metadata={"memory_reflect_redelivery": attempt},
            )
        except ConflictError:
            return None
        return str(run["run_id"])

    async def _save(
        self,
        prefix: tuple[str, ...],
        thread_id: str,
        view: ThreadView,
        now: float,
        *,
        parked: bool = False,
        attempts: int | None = None,
        next_at: float | None = None,
        error: str,
        run_id: str | None,
    ) -> None:
        record = delivery_record(
            view.record, self._settings.attempts, now, error=error, run_id=run_id,
            attempts=attempts, next_at=next_at, parked=parked,
        )  # fmt: skip
        await self._reader.store.put_item(
            delivery_namespace(thread_id, prefix), DELIVERY_KEY, dict(record), index=False
        )


async def run_redeliverer(redeliverer: Redeliverer, settings: RedeliverySettings) -> None:
    """Scan every ``interval_seconds`` until cancelled; a failed scan is logged, not fatal.

    Each scan is claimed first (:mod:`graphs.server.lease`), so however many server processes
    run this loop, one of them scans in each interval and an attempt is counted once.
    """
    await each_slot(
        redeliverer.reader, "redelivery scan", settings.interval_seconds, redeliverer.scan_once
    )
