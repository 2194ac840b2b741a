"""The Ledger: every submission an executor holds, and what the server said about it.

Both remote executors keep their bookkeeping here and their decisions in
:mod:`sdk_client._flows`; the Ledger records what the flows learn (accepted,
processed, failed, lost, cancelled) and resolves the Futures. It also decides
how the next run on a thread is created (:class:`RunPlan`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from sdk_client._submission import Request, Submission, coalesce
from sdk_client.errors import (
    ExecutorShutdownError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
    SubmissionLostError,
)
from sdk_client.types import Delivery, Stage, SubmissionFuture, SubmissionResult

__all__ = ["STARTED_MARGIN", "Ledger", "RunPlan"]

STARTED_MARGIN = 0.5
"""Seconds before its due time from which a run of ours may already be running.

The server starts a run no earlier than ``after_seconds`` after it received the
create request, which is after we sent it; the margin covers the time our
cancel takes to reach the server.
"""


@dataclass(frozen=True)
class RunPlan:
    """How to create a thread's next run without cancelling one that is running.

    ``rollback`` supersedes every pending or running run on the thread, so it is
    used only while none of ours may be running. A running run already read the
    inbox and may have called the model: cancelling it would waste that call
    (and lose nothing, since the inbox stays). Then the new run is enqueued
    behind it instead, after our pending runs are cancelled one by one.
    """

    strategy: Literal["rollback", "enqueue"] = "rollback"
    cancel: tuple[str, ...] = ()
    """Our pending runs to cancel (``action="rollback"``) before creating the new one."""
    running: tuple[str, ...] = ()
    """Our runs the server says are running: left alone."""


def not_accepted_detail(err: BaseException, url: str) -> str:
    """Say why a send failed, with a hint when the server is not reachable."""
    detail = f"{type(err).__name__}: {err}"
    if isinstance(err, httpx.TransportError):
        detail += f" (is the server running at {url}? start it with `langgraph dev`)"
    return detail


class Ledger:
    """Every submission an executor holds, and what the server said about it.

    Everything an executor knows lives here: the Futures not resolved yet, the
    accepted ones waiting for a receipt, the last run created per thread.
    Methods are thread-safe and never block on I/O, so the flows call them
    from a sender thread, the watcher thread or the event loop alike.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.closed = False
        self._futures: dict[str, SubmissionFuture] = {}
        # Handed over, not yet accepted or failed: what a delivery at exit resends.
        self._unsent: dict[str, Submission] = {}
        self._waiting: dict[str, dict[str, tuple[SubmissionFuture, float]]] = {}
        self._last_run: dict[str, str] = {}
        # Per thread: our runs not known finished → when each falls due (our clock).
        self._runs: dict[str, dict[str, float]] = {}

    # ------------------------------------------------------------ submitting

    def add(self, sub: Submission) -> SubmissionFuture:
        """Register a new submission and return its Future.

        Raises:
            ExecutorShutdownError: the executor was shut down.
        """
        fut = SubmissionFuture(sub.submission_id, sub.thread_id)
        with self._lock:
            if self.closed:
                raise ExecutorShutdownError("submit(): the executor has been shut down")
            self._futures[sub.submission_id] = fut
            self._unsent[sub.submission_id] = sub
        return fut

    def requests(self, group: Sequence[Submission]) -> list[tuple[Request, list[Submission]]]:
        """Coalesce a thread's queued submissions, skipping those resolved meanwhile."""
        with self._lock:
            live = [
                s
                for s in group
                if s.submission_id in self._futures and not self._futures[s.submission_id].done()
            ]
        out: list[tuple[Request, list[Submission]]] = []
        for req in coalesce(live, time.time()):
            ids = {r["submission_id"] for r in req.inbox_entry["submissions"]}
            out.append((req, [s for s in live if s.submission_id in ids]))
        return out

    def may_be_running(self, thread_id: str, now: float) -> list[str]:
        """Our runs on a thread that may have started by ``now``: ask the server about these."""
        with self._lock:
            runs = self._runs.get(thread_id, {})
            return [rid for rid, due in runs.items() if due - STARTED_MARGIN <= now]

    def plan_run(self, thread_id: str, statuses: Mapping[str, str | None]) -> RunPlan:
        """Decide how to create the next run, given the server's status of each run asked.

        Args:
            thread_id: The thread the run is for.
            statuses: Run id → status for the runs :meth:`may_be_running` named
                (``None``: the server no longer has it).
        """
        if not statuses:  # none of ours may have started: the common case, no lock
            return RunPlan()
        with self._lock:
            runs = self._runs.get(thread_id, {})
            for rid, status in statuses.items():
                if status not in ("pending", "running"):
                    runs.pop(rid, None)  # finished or gone: nothing to supersede
            running = tuple(rid for rid in runs if statuses.get(rid) == "running")
            if not running:
                return RunPlan()
            pending = tuple(rid for rid in runs if rid not in running)
            return RunPlan("enqueue", cancel=pending, running=running)

    def accepted(
        self,
        thread_id: str,
        run_id: str,
        subs: Sequence[Submission],
        *,
        due_at: float = 0.0,
        plan: RunPlan = RunPlan(),  # frozen: one shared default is safe
    ) -> None:
        """The server holds ``subs`` and ``run_id`` (falling due at ``due_at``) will process them.

        ``plan`` is how the run was created: after a rollback only the new run is
        live; after an enqueue, the running runs it was queued behind are too.
        """
        with self._lock:
            self._last_run[thread_id] = run_id
            runs = {rid: due for rid, due in self._runs.get(thread_id, {}).items()
                    if rid in plan.running}  # fmt: skip
            runs[run_id] = due_at
            self._runs[thread_id] = runs
            waiting = self._waiting.setdefault(thread_id, {})
            for sub in subs:
                self._unsent.pop(sub.submission_id, None)
                fut = self._futures.get(sub.submission_id)
                if fut is None or fut.done():  # cancelled while it was being sent
                    continue
                fut._mark_accepted(run_id)
                waiting[sub.submission_id] = (fut, sub.due_at)

    def not_accepted(
        self, subs: Sequence[Submission], err: BaseException, step: str, url: str
    ) -> None:
        """Fail ``subs``: ``step`` (e.g. "writing the inbox") failed for good with ``err``."""
        detail = not_accepted_detail(err, url)
        with self._lock:
            futures = [(sub, self._futures.pop(sub.submission_id, None)) for sub in subs]
            for sub in subs:
                self._unsent.pop(sub.submission_id, None)
        for sub, fut in futures:
            if fut is not None:
                exc = NotAcceptedError(
                    f"submission {sub.submission_id} was not accepted ({step} failed after "
                    f"retries): {detail}",
                    submission_id=sub.submission_id,
                    thread_id=sub.thread_id,
                )
                exc.__cause__ = err
                fut._mark_failed(exc)

    # -------------------------------------------------------------- watching

    def due_threads(self, now: float) -> list[str]:
        """Threads with an accepted submission whose run should have started."""
        with self._lock:
            return [
                tid
                for tid, subs in self._waiting.items()
                if subs and min(d for _, d in subs.values()) <= now
            ]

    def resolve_processed(self, thread_id: str, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Resolve, as processed, the Futures whose receipts are in ``items``; their keys."""
        with self._lock:
            waiting = self._waiting.get(thread_id, {})
            found = [(waiting.pop(i["key"])[0], i) for i in items if i["key"] in waiting]
            for fut, _ in found:
                self._futures.pop(fut.submission_id, None)
            self._forget_if_idle(thread_id)
        for fut, item in found:
            fut._mark_processed(SubmissionResult.from_receipt(thread_id, dict(item["value"])))
        return [str(item["key"]) for _, item in found]

    def unprocessed(self, thread_id: str) -> tuple[str | None, list[str]]:
        """The last run created on a thread, and the submissions still waiting there."""
        with self._lock:
            return self._last_run.get(thread_id), list(self._waiting.get(thread_id, {}))

    def follow(self, thread_id: str, run_id: str) -> None:
        """Another client's run superseded ours and reads the same inbox: watch it instead."""
        with self._lock:
            self._last_run[thread_id] = run_id

    def run_failed(self, thread_id: str, run_id: str, status: str, ids: Sequence[str]) -> None:
        """The run for ``ids`` ended with ``status`` (error, timeout, interrupted)."""
        self._fail(
            thread_id,
            ids,
            lambda sid: ProcessingFailedError(
                f"run {run_id} on thread {thread_id} ended with status {status!r}; the "
                "submission stays in the thread's inbox and the next run on the thread "
                "processes it",
                submission_id=sid,
                thread_id=thread_id,
                run_id=run_id,
            ),
        )

    def redelivering(self, thread_id: str, ids: Sequence[str], delivery: Delivery) -> None:
        """The run for ``ids`` failed and the server's redelivery runs it again: keep waiting.

        Their Futures' stage becomes ``RETRYING`` (the public name of that stage).
        """
        with self._lock:
            waiting = self._waiting.get(thread_id, {})
            futures = [waiting[sid][0] for sid in ids if sid in waiting]
        for fut in futures:
            fut._mark_retrying(delivery)

    def parked(self, thread_id: str, run_id: str, ids: Sequence[str], delivery: Delivery) -> None:
        """Every attempt at ``ids``'s work failed: the server parked it (kept, not running)."""
        self._fail(
            thread_id,
            ids,
            lambda sid: ProcessingFailedError(
                f"the work of submission {sid} on thread {thread_id} is parked after "
                f"{delivery.attempts} attempts (last: {delivery.last_error}); it stays in the "
                "thread's inbox until `memory-reflect retry` (executor.retry()) or the "
                "thread's next submission runs it again",
                submission_id=sid,
                thread_id=thread_id,
                run_id=run_id,
            ),
        )

    def lost(self, thread_id: str, run_id: str, ids: Sequence[str]) -> None:
        """The server no longer holds ``ids``: their run is gone or done, with no receipt."""
        self._fail(
            thread_id,
            ids,
            lambda sid: SubmissionLostError(
                f"submission {sid} was accepted (run {run_id}, thread {thread_id}) but the "
                "server no longer holds it: the run and the inbox entry are gone and no "
                "receipt says it was processed (a server restarted without its latest "
                "data?); submit it again",
                submission_id=sid,
                thread_id=thread_id,
                run_id=run_id,
            ),
        )

    def _forget_if_idle(self, thread_id: str) -> None:
        # Called with the lock held. Nothing of ours waits on the thread: its runs
        # have committed (or failed), so forget them; a long-lived executor serving
        # many conversations then keeps nothing per finished thread.
        if not self._waiting.get(thread_id):
            self._waiting.pop(thread_id, None)
            self._last_run.pop(thread_id, None)
            self._runs.pop(thread_id, None)

    def _fail(self, thread_id: str, ids: Sequence[str], error: Callable[[str], Exception]) -> None:
        with self._lock:
            waiting = self._waiting.get(thread_id, {})
            failed = [(sid, waiting.pop(sid, (None, 0.0))[0]) for sid in ids]
            for sid in ids:
                self._futures.pop(sid, None)
            self._forget_if_idle(thread_id)
        for sid, fut in failed:
            if fut is not None:
                fut._mark_failed(error(sid))

    # ------------------------------------------------------------ cancelling

    def cancel_thread(self, thread_id: str, asked: Any) -> int:
        """Cancel this executor's submissions on a thread (``asked``: what the caller passed)."""
        with self._lock:
            waiting = self._waiting.pop(thread_id, {})
            self._runs.pop(thread_id, None)
            futures = {
                f.submission_id: f for f in self._futures.values() if f.thread_id == thread_id
            }
            for sid in futures:
                self._futures.pop(sid, None)
                self._unsent.pop(sid, None)
        futures.update({sid: f for sid, (f, _) in waiting.items()})
        for sid, fut in futures.items():
            fut._mark_failed(
                SubmissionCancelledError(
                    f"submission {sid} cancelled by cancel({asked!r})",
                    submission_id=sid,
                    thread_id=thread_id,
                ),
                Stage.CANCELLED,
            )
        return len(futures)

    def close(self, *, cancel_futures: bool) -> bool:
        """Stop taking submissions; False if already closed.

        Args:
            cancel_futures: Cancel the submissions not sent yet.
        """
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            unsent = [f for f in self._futures.values() if f.stage is Stage.HANDED_OVER]
            if cancel_futures:
                for fut in unsent:
                    self._futures.pop(fut.submission_id, None)
                    self._unsent.pop(fut.submission_id, None)
        if cancel_futures:
            for fut in unsent:
                fut._mark_failed(
                    SubmissionCancelledError(
                        f"submission {fut.submission_id} cancelled by shutdown()",
                        submission_id=fut.submission_id,
                        thread_id=fut.thread_id,
                    ),
                    Stage.CANCELLED,
                )
        return True

    # -------------------------------------------------------------- querying

    def pending(self) -> list[SubmissionFuture]:
        """Futures not resolved yet, oldest first."""
        with self._lock:
            return list(self._futures.values())

    def unsent(self) -> list[SubmissionFuture]:
        """Futures the server does not hold yet (those of :meth:`unsent_submissions`)."""
        with self._lock:
            return [self._futures[sid] for sid in self._unsent]

    def unsent_submissions(self) -> list[Submission]:
        """The submissions of :meth:`unsent`, oldest first (what a delivery at exit sends).

        Every way out of ``HANDED_OVER`` (accepted, not accepted, cancelled) drops the
        submission from this table, under the same lock as its Future.
        """
        with self._lock:
            return list(self._unsent.values())

    def drained(self) -> bool:
        """Closed, and nothing left to watch: the watcher may stop."""
        with self._lock:
            return self.closed and not any(self._waiting.values()) and not self._futures
