"""The quiet job: consolidate a memory namespace once it has gone quiet.

Consolidation (and the forgetting that rides on it) is deferred work like extraction,
best done when the user is not talking: then nothing it retires is about to be written
again, and nothing waits on it. This job (one of :mod:`graphs.server.jobs`) scans the
namespaces' activity records every ``MEMORY_QUIET_INTERVAL_SECONDS`` and, for each
namespace whose last extraction committed ``MEMORY_QUIET_MINUTES`` ago or more, starts
one consolidation run (input ``{"consolidate": true}``, context ``{"namespace": ...}``)
as the namespace's owner (:func:`~graphs.server.jobs.runs_as`, so keyed-mode scoping
holds) on the assistant the extraction ran as (so its settings, ``max_memories`` and
the forgetting policy among them, apply).

- **Once per quiet period.** Starting a run writes the namespace's consolidation record
  (``("reflection_activity", *namespace)``, key ``consolidation``) with the extraction it
  was quiet since; the namespace is due again only after a newer extraction and a new
  quiet period. A run that fails (a refusal: over ``consolidation_max_share``) is not
  retried in the same period: it would fail the same way.
- **Never while extraction waits.** A namespace with accepted submissions in an inbox is
  not due (the run would refuse, ``consolidate.py``); it is looked at again next scan, and
  the extraction that processes them starts a new quiet period anyway. Runs are created
  with ``multitask_strategy="reject"`` on a thread of the job's own per namespace, so a
  consolidation still running is not started twice (across processes too).
- ``MEMORY_QUIET_REPEAT_HOURS`` (0 = never): consolidate again when the last one is that
  old, with no new extraction: for forgetting in a namespace nobody writes any more.

Off by default (``MEMORY_QUIET_MINUTES=0``): consolidation retires memories, so a server
does it on its own only when asked. A LangGraph cron is the other way to schedule it
(``docs/guides.md``).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError

from graphs.server import access
from graphs.server.envvars import env_number
from graphs.server.lease import MIN_INTERVAL_SECONDS, each_slot
from graphs.server.redelivery import RunsAs
from sdk_client.contract import GRAPH_ID
from sdk_client.records import (
    CONSOLIDATION_KEY,
    EXTRACTED_KEY,
    ConsolidationAttempt,
    activities_namespace,
    activity_namespace,
    consolidation_attempt,
    inboxes_namespace,
    read_pages,
    store_prefixes,
)

__all__ = ["QuietJob", "QuietSettings", "QuietView", "is_due", "quiet_thread_id", "run_quiet"]

logger = logging.getLogger(__name__)

_THREADS = uuid.UUID("6f0f3c1e-1c55-4d1b-9a57-54c2a8b0c7e1")


@dataclass(frozen=True)
class QuietSettings:
    """When quiet namespaces are consolidated; read from the server's environment."""

    quiet_minutes: float = 0.0
    """``MEMORY_QUIET_MINUTES``: minutes with no extraction before a namespace is
    consolidated (0 = off)."""

    interval_seconds: float = 60.0
    """``MEMORY_QUIET_INTERVAL_SECONDS``: seconds between two scans."""

    repeat_hours: float = 0.0
    """``MEMORY_QUIET_REPEAT_HOURS``: consolidate again after this long with no extraction
    (0 = once per quiet period only)."""

    max_per_scan: int = 20
    """Consolidations started at most per scan (the longest quiet first)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> QuietSettings:
        """Settings from the ``MEMORY_QUIET_*`` variables."""
        env = os.environ if env is None else env
        return cls(
            quiet_minutes=env_number(env, "MEMORY_QUIET_MINUTES", cls.quiet_minutes),
            interval_seconds=env_number(
                env, "MEMORY_QUIET_INTERVAL_SECONDS", cls.interval_seconds, MIN_INTERVAL_SECONDS
            ),
            repeat_hours=env_number(env, "MEMORY_QUIET_REPEAT_HOURS", cls.repeat_hours),
        )

    @property
    def enabled(self) -> bool:
        """False when ``quiet_minutes`` is 0."""
        return self.quiet_minutes > 0


@dataclass(frozen=True)
class QuietView:
    """What the job knows about one memory namespace."""

    extracted_at: float
    """When an extraction last committed there."""
    attempt: ConsolidationAttempt | None
    """The last consolidation this job started there, if any."""
    waiting: bool
    """Accepted submissions for it wait in an inbox (an extraction pending or running)."""


def is_due(view: QuietView, now: float, settings: QuietSettings) -> bool:
    """Whether to start a consolidation of the namespace now (pure, so it is tested alone)."""
    if not settings.enabled or view.waiting:
        return False
    if now - view.extracted_at < settings.quiet_minutes * 60:
        return False
    attempt = view.attempt
    if attempt is None or attempt["quiet_since"] < view.extracted_at:
        return True  # quiet since an extraction no consolidation has followed yet
    repeat = settings.repeat_hours * 3600
    return repeat > 0 and now - attempt["at"] >= repeat


def quiet_thread_id(
    prefix: tuple[str, ...], namespace: tuple[str, ...], salt: str | None = None
) -> str:
    """The job's thread for one user's namespace (the same in every process).

    ``salt``: :attr:`~graphs.server.access.Access.job_salt` (this server's by default), so
    no user can compute the id and create the thread first.
    """
    salt = access.ACCESS.job_salt if salt is None else salt
    return str(uuid.uuid5(_THREADS, json.dumps(["quiet", salt, list(prefix), list(namespace)])))


class QuietJob:
    """Scans activity records and starts the consolidations :func:`is_due` calls for."""

    def __init__(self, reader: LangGraphClient, runs_as: RunsAs, settings: QuietSettings):
        self._reader = reader
        self._runs_as = runs_as
        self._settings = settings

    @property
    def reader(self) -> LangGraphClient:
        """The unauthenticated loopback client it reads (and claims its scans) with."""
        return self._reader

    async def scan_once(self, now: float | None = None) -> int:
        """Look once at every namespace's activity; how many consolidations were started."""
        now = time.time() if now is None else now
        started = 0
        for prefix in store_prefixes(access.ACCESS.identities):
            # One user's records (which that user may have written anything into) must not
            # stop the scan of the others: each user, then each namespace, fails alone.
            try:
                activity = await self._activity(prefix)
                waiting = await self._waiting(prefix)
            except Exception:
                logger.exception("memory-reflect: quiet scan of %s failed", prefix or "(open)")
                continue
            due: list[tuple[float, tuple[str, ...], dict[str, dict[str, Any]]]] = []
            for ns, records in activity.items():
                if EXTRACTED_KEY not in records:
                    continue  # never extracted into: nothing to be quiet since
                view = _view(records, ns in waiting)
                if view is None:
                    logger.warning("memory-reflect: unreadable activity records for %s: %r",
                                   "/".join(ns), records)  # fmt: skip
                elif is_due(view, now, self._settings):
                    due.append((view.extracted_at, ns, records))
            due.sort(key=lambda d: d[0])
            for _, ns, records in due[: self._settings.max_per_scan - started]:
                try:
                    started += await self._start(prefix, ns, records, now)
                except Exception:
                    logger.exception("memory-reflect: could not consolidate %s", "/".join(ns))
        return started

    async def _read(self, namespace: tuple[str, ...]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = await read_pages(
            lambda limit, offset: self._reader.store.search_items(
                namespace, limit=limit, offset=offset
            ),
            key="items",
        )
        return items

    async def _activity(
        self, prefix: tuple[str, ...]
    ) -> dict[tuple[str, ...], dict[str, dict[str, Any]]]:
        """Each memory namespace's activity records, by key (one search for all of them)."""
        found: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
        skip = len(activities_namespace(prefix))
        for item in await self._read(activities_namespace(prefix)):
            namespace = tuple(item["namespace"])[skip:]
            found.setdefault(namespace, {})[item["key"]] = dict(item["value"])
        return found

    async def _waiting(self, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        """The namespaces accepted submissions in an inbox are bound for.

        An entry captured from a custom assistant's run that named no namespace is bound for
        none it can name (as in ``consolidate.py``, which refuses on the same rule).
        """
        entries = await self._read(inboxes_namespace(prefix))
        return {tuple(ns) for e in entries if (ns := (e.get("value") or {}).get("namespace"))}

    async def _start(
        self,
        prefix: tuple[str, ...],
        namespace: tuple[str, ...],
        records: Mapping[str, dict[str, Any]],
        now: float,
    ) -> int:
        extracted = records[EXTRACTED_KEY]
        client = await self._runs_as(prefix[0] if prefix else None)
        thread_id = quiet_thread_id(prefix, namespace)
        options: dict[str, Any] = {
            "input": {"messages": [], "consolidate": True},
            "context": {"namespace": list(namespace)},
            "multitask_strategy": "reject",
            "if_not_exists": "create",
            "metadata": {"memory_reflect_quiet": True},
        }
        assistant = str(extracted.get("assistant_id") or GRAPH_ID)
        try:
            try:
                run = await client.runs.create(thread_id, assistant, **options)
            except NotFoundError:  # the assistant is gone: the graph's own settings, then
                run = await client.runs.create(thread_id, GRAPH_ID, **options)
        except ConflictError:
            return 0  # one is still running on the thread: look again next scan
        attempt = consolidation_attempt(
            namespace, float(extracted.get("at") or 0), now, str(run["run_id"])
        )
        await self._reader.store.put_item(
            activity_namespace(namespace, prefix), CONSOLIDATION_KEY, dict(attempt), index=False
        )
        logger.info(
            "memory-reflect: %s quiet since its last extraction; consolidating (run %s)",
            "/".join(namespace), run["run_id"],
        )  # fmt: skip
        return 1


def _view(records: Mapping[str, dict[str, Any]], waiting: bool) -> QuietView | None:
    """What the activity records say, or None when they are not what the graph writes."""
    attempt = records.get(CONSOLIDATION_KEY)
    try:
        extracted_at = float(records[EXTRACTED_KEY].get("at") or 0)
        if attempt:  # the two times is_due reads
            attempt = {**attempt, "quiet_since": float(attempt["quiet_since"]),
                       "at": float(attempt["at"])}  # fmt: skip
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    kept = cast(ConsolidationAttempt, attempt) if attempt else None
    return QuietView(extracted_at, kept, waiting)


async def run_quiet(job: QuietJob, settings: QuietSettings) -> None:
    """Scan every ``interval_seconds`` until cancelled; a failed scan is logged, not fatal.

    Each scan is claimed first (:mod:`graphs.server.lease`), so one process scans in each
    interval and a namespace's consolidation is started once.
    """
    await each_slot(job.reader, "quiet scan", settings.interval_seconds, job.scan_once)
