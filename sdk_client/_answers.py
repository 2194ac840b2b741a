"""What the server's answers mean: a thread's status, its inbox size, what it lost.

Pure functions over the dicts langgraph-sdk returns, shared by the executors'
flows and the CLI, so both read the server the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sdk_client.records import held_submissions
from sdk_client.types import Delivery, ThreadStatus

__all__ = [
    "FAILED_RUN",
    "delivery_of",
    "missing",
    "not_found",
    "thread_status",
]

FAILED_RUN = frozenset({"error", "timeout", "interrupted"})
"""Run statuses that end a run without processing its inbox."""


def not_found(err: BaseException) -> bool:
    """True if ``err`` is the server answering 404 (the thread or run does not exist)."""
    return getattr(err, "status_code", None) == 404


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def thread_status(
    thread_id: str,
    runs: Sequence[Mapping[str, Any]],
    inbox_count: int,
    delivery: Delivery | None = None,
) -> ThreadStatus:
    """Summarise a thread from its pending/running runs, inbox size and delivery record."""
    for wanted in ("running", "pending"):
        for run in runs:
            if run.get("status") == wanted:
                return ThreadStatus(
                    thread_id=thread_id,
                    state=wanted,
                    run_id=str(run.get("run_id")),
                    # The server records a deferred run's created_at as its due time.
                    due_at=_epoch(run.get("created_at")) if wanted == "pending" else None,
                    inbox=inbox_count,
                    delivery=delivery,
                )
    return ThreadStatus(thread_id=thread_id, state="idle", inbox=inbox_count, delivery=delivery)


def delivery_of(item: Mapping[str, Any] | None) -> Delivery | None:
    """A thread's delivery record (a store item, or None) as a :class:`Delivery`."""
    return Delivery.from_record(item["value"]) if item else None


def missing(
    ids: Iterable[str],
    inbox: Sequence[Mapping[str, Any]],
    receipts: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Those of ``ids`` neither in the thread's inbox items nor receipted.

    Asked once their run is gone or finished, so nothing will process them now:
    the server lost them (a dev server killed before it wrote its data to disk).
    Callers must read ``receipts`` after ``inbox``: a run that commits meanwhile
    writes its receipts before it deletes the inbox entries it read.
    """
    held = held_submissions(inbox)
    receipted = {str(i["key"]) for i in receipts}
    return [sid for sid in ids if sid not in held and sid not in receipted]
