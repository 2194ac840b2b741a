"""The executor's logic that does no I/O, shared by its sync and async methods.

Thread resolution, building a submission, coalescing a thread's queued
submissions into one request pair, and reading the server's answers live
here, as pure functions, so they are tested without a server.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from sdk_client.contract import (
    InboxEntry,
    Message,
    SubmissionRecord,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.errors import (
    ExecutorShutdownError,
    FlushTimeoutError,
    InvalidPayloadError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
    SubmissionLostError,
)
from sdk_client.types import Stage, SubmissionFuture, SubmissionResult, ThreadStatus

__all__ = [
    "NOT_GIVEN",
    "Ledger",
    "RunPlan",
    "Submission",
    "build_submission",
    "coalesce",
    "inbox_count",
    "missing",
    "not_found",
    "resolve_thread_id",
    "thread_status",
]


class _NotGiven:
    """Sentinel type: an argument that was not passed (distinct from ``None``)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


_get_config: Callable[[], Mapping[str, Any]] | None
try:  # imported once here, not on the first submit(): importing langgraph takes ~0.3 s
    from langgraph.config import get_config as _get_config
except ImportError:  # the client does not require langgraph
    _get_config = None


def _ambient_config() -> Mapping[str, Any] | None:
    """The LangGraph config of the node/entrypoint we are called from, if any."""
    if _get_config is None:
        return None
    try:
        return _get_config()
    except RuntimeError:
        return None


def resolve_thread_id(
    thread_id: Any, config: Mapping[str, Any] | None, api_key: str | None = None
) -> str:
    """Pick the thread for a submission: ``thread_id`` > ``config`` > the LangGraph context.

    Raises:
        InvalidPayloadError: none of the three names a thread.
    """
    if thread_id is not NOT_GIVEN and thread_id is not None:
        return validate_thread_id(thread_id, api_key=api_key)
    for source in (config, _ambient_config()):
        configurable = (source or {}).get("configurable") or {}
        if configurable.get("thread_id"):
            return validate_thread_id(
                configurable["thread_id"], "config.configurable.thread_id", api_key=api_key
            )
    raise InvalidPayloadError(
        "thread_id: no thread to submit to. Pass thread_id=... (any string or UUID; one per "
        "conversation), or config={'configurable': {'thread_id': ...}}, or call submit() "
        "inside a LangGraph node or entrypoint"
    )


@dataclass(frozen=True)
class Submission:
    """One validated submission, ready for the sender."""

    submission_id: str
    thread_id: str
    namespace: tuple[str, ...]
    messages: list[Message]
    submitted_at: float
    after_seconds: float

    @property
    def due_at(self) -> float:
        """When its run should start, by the caller's clock."""
        return self.submitted_at + self.after_seconds

    def record(self) -> SubmissionRecord:
        """The submission as the inbox stores it."""
        return {
            "submission_id": self.submission_id,
            "messages": self.messages,
            "submitted_at": self.submitted_at,
            "after_seconds": self.after_seconds,
        }


def build_submission(
    payload: Any,
    namespace_template: Sequence[str],
    *,
    config: Mapping[str, Any] | None,
    after_seconds: Any,
    thread_id: Any,
    api_key: str | None = None,
) -> Submission:
    """Validate everything about a submission before anything is sent.

    Raises:
        InvalidPayloadError: a field is missing or malformed (the message names it).
    """
    messages = normalize_payload(payload)
    delay = validate_after_seconds(after_seconds)
    tid = resolve_thread_id(thread_id, config, api_key)
    values = dict((config or _ambient_config() or {}).get("configurable") or {})
    namespace = resolve_namespace(namespace_template, values)
    return Submission(
        submission_id=str(uuid.uuid4()),
        thread_id=tid,
        namespace=namespace,
        messages=messages,
        submitted_at=time.time(),
        after_seconds=delay,
    )


@dataclass(frozen=True)
class Request:
    """What the sender sends for a group of one thread's queued submissions."""

    thread_id: str
    inbox_key: str
    inbox_entry: InboxEntry
    run_input: dict[str, Any]
    run_config: dict[str, Any]
    after_seconds: float


def coalesce(group: Sequence[Submission], now: float) -> list[Request]:
    """Turn one thread's queued submissions (oldest first) into requests.

    Submissions with the same namespace become one inbox entry and one run:
    the newest submission's run would supersede the others' anyway. The run
    falls due when the newest submission asked, measured from when it was
    submitted, not from when the sender got to it.
    """
    requests: list[Request] = []
    start = 0
    for i in range(1, len(group) + 1):
        if i == len(group) or group[i].namespace != group[start].namespace:
            requests.append(_request(group[start:i], now))
            start = i
    return requests


def _request(subs: Sequence[Submission], now: float) -> Request:
    newest = subs[-1]
    remaining = round(max(0.0, newest.due_at - now), 3)
    return Request(
        thread_id=newest.thread_id,
        inbox_key=subs[0].submission_id,
        inbox_entry={
            "namespace": list(newest.namespace),
            "submissions": [s.record() for s in subs],
        },
        run_input={"messages": newest.messages, "submission_id": newest.submission_id},
        run_config={
            "configurable": {"thread_id": newest.thread_id, "namespace": list(newest.namespace)}
        },
        after_seconds=remaining,
    )


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def inbox_count(items: Iterable[Mapping[str, Any]]) -> int:
    """How many accepted, unprocessed submissions a thread's inbox items hold."""
    return sum(len(item["value"].get("submissions", [])) for item in items)


def thread_status(
    thread_id: str, runs: Sequence[Mapping[str, Any]], inbox_count: int
) -> ThreadStatus:
    """Summarise a thread from its pending/running runs and its inbox size."""
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
                )
    return ThreadStatus(thread_id=thread_id, state="idle", inbox=inbox_count)


def namespace_or_default(
    namespace: str | Sequence[str] | None, default: tuple[str, ...]
) -> tuple[str, ...]:
    """The namespace to search: the one given, else the executor's."""
    return default if namespace is None else validate_namespace(namespace)


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


# ---------------------------------------------------------------------------
# Ledger: the executors' bookkeeping, shared by the sync and async executors.
# ---------------------------------------------------------------------------


def sender_for(thread_id: str, senders: int) -> int:
    """The sender a thread always uses, so its submissions reach the server in order."""
    return zlib.crc32(thread_id.encode()) % senders


def take_batch(
    first: Submission, get_nowait: Callable[[], Submission | None], empty: type[Exception]
) -> tuple[list[Submission], bool]:
    """``first`` and whatever queued up behind it; True if the stop marker was among them."""
    batch = [first]
    while True:
        try:
            nxt = get_nowait()
        except empty:
            return batch, False
        if nxt is None:
            return batch, True
        batch.append(nxt)


def group_by_thread(batch: Sequence[Submission]) -> list[list[Submission]]:
    """Split a sender's batch into per-thread groups, each oldest first."""
    groups: dict[str, list[Submission]] = {}
    for sub in batch:
        groups.setdefault(sub.thread_id, []).append(sub)
    return list(groups.values())


def not_found(err: BaseException) -> bool:
    """True if ``err`` is the server answering 404 (the thread or run does not exist)."""
    return getattr(err, "status_code", None) == 404


def not_accepted_detail(err: BaseException, url: str) -> str:
    """Say why a send failed, with a hint when the server is not reachable."""
    detail = f"{type(err).__name__}: {err}"
    if isinstance(err, httpx.TransportError):
        detail += f" (is the server running at {url}? start it with `langgraph dev`)"
    return detail


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
    held = {s["submission_id"] for i in inbox for s in i["value"].get("submissions", [])}
    receipted = {str(i["key"]) for i in receipts}
    return [sid for sid in ids if sid not in held and sid not in receipted]


class Ledger:
    """Every submission an executor holds, and what the server said about it.

    The sync and async executors do only I/O; everything they know lives here:
    the Futures not resolved yet, the accepted ones waiting for a receipt, the
    last run created per thread. Methods are thread-safe and never block on
    I/O, so the async executor calls them straight from the event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.closed = False
        self._futures: dict[str, SubmissionFuture] = {}
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

    def receipts(self, thread_id: str, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Resolve the Futures whose receipts are in ``items``; return those receipts' keys."""
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
        """Futures the server does not hold yet."""
        return [f for f in self.pending() if f.stage is Stage.HANDED_OVER]

    def drained(self) -> bool:
        """Closed, and nothing left to watch: the watcher may stop."""
        with self._lock:
            return self.closed and not any(self._waiting.values()) and not self._futures


def flush_timeout(fut: SubmissionFuture, timeout: float | None) -> FlushTimeoutError:
    """The error ``flush()`` raises when ``fut`` is not processed in time."""
    return FlushTimeoutError(
        f"flush(): submission {fut.submission_id} not processed within {timeout} s "
        f"(stage: {fut.stage.value})"
    )


def warn_lost_at_exit(log: logging.Logger, url: str, futures: Sequence[SubmissionFuture]) -> None:
    """Name, in a warning, the Futures unsent at exit that the server still does not hold."""
    lost = [f for f in futures if f.stage not in (Stage.ACCEPTED, Stage.PROCESSED)]
    if lost:
        names = ", ".join(f"{f.submission_id} (thread {f.thread_id})" for f in lost)
        log.warning(
            "memory-reflect: %d submission(s) were NOT accepted by %s before exit and are lost: %s",
            len(lost),
            url,
            names,
        )
