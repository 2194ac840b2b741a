"""Public result types: the stages of a submission, what processing returned, a thread's status."""

from __future__ import annotations

import asyncio
import enum
import threading
import time
from collections.abc import Generator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from sdk_client.contract import memory_text
from sdk_client.errors import AcceptTimeoutError

__all__ = [
    "Delivery",
    "MemoryChange",
    "ModelUsage",
    "Stage",
    "SubmissionFuture",
    "SubmissionResult",
    "ThreadStatus",
]


class Stage(enum.StrEnum):
    """Where a submission is on its way to memory."""

    HANDED_OVER = "handed_over"
    """``submit()`` returned; the background sender has it, the server does not yet."""
    ACCEPTED = "accepted"
    """The server holds it (inbox written, run created): it survives the caller's death."""
    PROCESSED = "processed"
    """A run that saw it finished and its memory writes are done."""
    RETRYING = "retrying"
    """Accepted, but its run failed; the server runs it again (``fut.delivery`` says when)."""
    FAILED = "failed"
    """Not accepted, or its run failed and its work is parked; the Future holds the error."""
    CANCELLED = "cancelled"
    """Cancelled through ``cancel()`` or ``shutdown(cancel_futures=True)``."""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True)
class ModelUsage:
    """What a run spent on the chat model, as the provider reported it.

    Zeros for a run of the offline extractor (it calls no model). The figures
    are the whole run's: every submission the run processed shows the same ones.

    Attributes:
        model_calls: Chat-model calls the run made.
        prompt_tokens: Input tokens, summed over the calls.
        completion_tokens: Output tokens, summed over the calls.
        model_seconds: Seconds spent waiting on the model, summed over the calls.
    """

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_record(cls, record: Any) -> ModelUsage:
        """Build from a run's ``usage`` (see ``records.UsageRecord``); bad fields read as 0."""
        seconds = record.get("model_seconds")
        return cls(
            model_calls=_count(record.get("model_calls")),
            prompt_tokens=_count(record.get("prompt_tokens")),
            completion_tokens=_count(record.get("completion_tokens")),
            model_seconds=float(seconds) if isinstance(seconds, int | float) else 0.0,
        )

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> ModelUsage | None:
        """The ``usage`` a run left in its thread state or a receipt; None if it recorded none."""
        usage = (record or {}).get("usage")
        return cls.from_record(usage) if isinstance(usage, Mapping) else None

    def describe(self) -> str:
        """One line for people: ``2 model calls, 1,234 → 56 tokens, 840 ms``."""
        if not self.model_calls:
            return "no model calls"
        calls = f"{self.model_calls} model call{'' if self.model_calls == 1 else 's'}"
        tokens = f"{self.prompt_tokens:,} → {self.completion_tokens:,} tokens"
        s = self.model_seconds
        return f"{calls}, {tokens}, " + (f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s")


@dataclass(frozen=True)
class SubmissionResult:
    """What a processed submission's Future resolves to.

    Attributes:
        submission_id: This submission.
        thread_id: The server thread (a UUID) it was processed on.
        run_id: The run that processed it: its own, or the one that superseded it.
        message_ids: Ids of the messages that run processed (this submission's and others').
        created: Memory paths (``"label/.../key"``) the run created.
        updated: Memory paths the run updated.
        deleted: Memory paths the run deleted.
        processed_at: When the run committed (epoch seconds).
        usage: What the run spent on the model (:class:`ModelUsage`; the run's
            totals, shared by every submission it processed); None when the
            server did not record it (a server older than this field).
    """

    submission_id: str
    thread_id: str
    run_id: str
    message_ids: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    processed_at: float = 0.0
    usage: ModelUsage | None = None

    @classmethod
    def from_receipt(cls, thread_id: str, receipt: dict[str, Any]) -> SubmissionResult:
        """Build from a receipt stored by the graph's ``commit`` step."""
        return cls(
            submission_id=str(receipt["submission_id"]),
            thread_id=thread_id,
            run_id=str(receipt.get("run_id", "")),
            message_ids=list(receipt.get("message_ids", [])),
            created=list(receipt.get("created", [])),
            updated=list(receipt.get("updated", [])),
            deleted=list(receipt.get("deleted", [])),
            processed_at=float(receipt.get("processed_at", 0.0)),
            usage=ModelUsage.of(receipt),
        )


@dataclass(frozen=True)
class Delivery:
    """The server's redelivery of a thread's work whose run failed or was lost.

    Read from the thread's delivery record (``graphs/server/redelivery.py`` writes it).

    Attributes:
        attempts: Runs the server has created for the work so far.
        max_attempts: Attempts before the work is parked.
        next_at: When the next attempt may start (epoch seconds); None once parked.
        parked: Every attempt failed: the work waits, kept, until ``retry()`` or the
            thread's next submission runs it again.
        last_error: What happened to the last run.
    """

    attempts: int = 0
    max_attempts: int = 0
    next_at: float | None = None
    parked: bool = False
    last_error: str = ""

    @classmethod
    def from_record(cls, record: Any) -> Delivery:
        """Build from a delivery record's value (see ``records.DeliveryRecord``)."""
        return cls(
            attempts=int(record.get("attempts", 0)),
            max_attempts=int(record.get("max_attempts", 0)),
            next_at=record.get("next_at"),
            parked=bool(record.get("parked", False)),
            last_error=str(record.get("last_error", "")),
        )

    def describe(self) -> str:
        """One line for people: ``retrying, attempt 2 of 5, next at 12:00:03`` or ``parked``."""
        if self.parked:
            return f"parked after {self.attempts} attempts: {self.last_error}"
        when = time.strftime("%H:%M:%S", time.localtime(self.next_at)) if self.next_at else "soon"
        return f"retrying, attempt {self.attempts + 1} of {self.max_attempts}, next at {when}"


@dataclass(frozen=True)
class MemoryChange:
    """One change to one memory, from its history (``history()``, ``memory-reflect history``).

    Attributes:
        id: The change's id in the history: what ``undo()`` takes.
        namespace: The memory's namespace.
        key: The memory's key.
        event: ``created``, ``updated``, ``deleted``, or ``restored`` (an undo).
        at: When it was written (epoch seconds).
        run_id: The run that wrote it; None for an undo or a change made through the CLI.
        thread_id: The conversation whose run wrote it (the server's thread id), or None.
        submission_ids: The submissions whose messages led to it.
        message_ids: Those messages' ids.
        before: The memory's value before (None: it did not exist).
        after: Its value after (None: it was deleted).
        restores: For ``restored``: the id of the change it undid.
        cause: Why, when not extraction: ``consolidation`` retired it.
        reason: What consolidation said: the memory it duplicated or that contradicted
            it, or the bound.
    """

    id: str
    namespace: tuple[str, ...]
    key: str
    event: str
    at: float
    run_id: str | None = None
    thread_id: str | None = None
    submission_ids: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    restores: str | None = None
    cause: str | None = None
    reason: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> MemoryChange:
        """Build from a history item of the store (``records.HistoryEntry`` is its value)."""
        value = item["value"]
        return cls(
            id=str(item["key"]),
            namespace=tuple(value.get("namespace") or ()),
            key=str(value.get("key", "")),
            event=str(value.get("event", "")),
            at=float(value.get("at", 0.0)),
            run_id=value.get("run_id"),
            thread_id=value.get("thread_id"),
            submission_ids=tuple(value.get("submission_ids") or ()),
            message_ids=tuple(value.get("message_ids") or ()),
            before=value.get("before"),
            after=value.get("after"),
            restores=value.get("restores"),
            cause=value.get("cause"),
            reason=value.get("reason"),
        )

    def describe(self) -> str:
        """One line for people: when, what happened, and the text after (or before)."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at))
        value = self.after if self.after is not None else self.before
        text = memory_text(value) if value is not None else ""
        return f"{when} {self.event} {'/'.join([*self.namespace, self.key])}: {text}"


@dataclass(frozen=True)
class ThreadStatus:
    """What the server is doing for one thread.

    Attributes:
        thread_id: The server thread (a UUID).
        state: ``"idle"`` (nothing waiting), ``"pending"`` (a run waits for its
            due time) or ``"running"``.
        run_id: The pending or running run, if any.
        due_at: When the pending run falls due (epoch seconds), if pending.
        inbox: Accepted submissions not processed yet.
        delivery: The server's redelivery of work whose run failed (retrying or
            parked), if any.
    """

    thread_id: str
    state: Literal["idle", "pending", "running"]
    run_id: str | None = None
    due_at: float | None = None
    inbox: int = 0
    delivery: Delivery | None = None


class SubmissionFuture(Future[SubmissionResult]):
    """A ``concurrent.futures.Future`` that also shows a submission's stage.

    ``result()`` waits until the submission is *processed* and returns a
    :class:`SubmissionResult`. A caller that may die soon after submitting
    (a serverless handler, a short script) should call :meth:`wait_accepted`
    first: once it returns, the server holds the submission.

    In async code, ``await fut`` is ``result()`` and ``await
    fut.wait_accepted_async()`` is :meth:`wait_accepted`; neither blocks the loop.
    """

    def __init__(self, submission_id: str, thread_id: str) -> None:
        super().__init__()
        self.submission_id = submission_id
        self.thread_id = thread_id
        self.run_id: str | None = None
        self.delivery: Delivery | None = None
        """While :attr:`stage` is ``RETRYING``: the server's next attempt (:class:`Delivery`)."""
        self._stage = Stage.HANDED_OVER
        # The accepted stage: a flag, and an Event made only for a thread that waits
        # before it is reached (most never do; an Event per submit() costs µs).
        self._accepted = False
        self._accepted_event: threading.Event | None = None
        self._accept_lock = threading.Lock()
        self._accept_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def stage(self) -> Stage:
        """The submission's current stage."""
        return self._stage

    @property
    def accepted(self) -> bool:
        """True once the server has held the submission, whatever happened after."""
        return self.run_id is not None

    def wait_accepted(self, timeout: float | None = None) -> None:
        """Block until the server holds the submission.

        Raises:
            AcceptTimeoutError: ``timeout`` passed first (the sender may still succeed);
                a :class:`FlushTimeoutError`.
            NotAcceptedError: the server never accepted it (the error says why).
            SubmissionCancelledError: it was cancelled before it was sent.
        """
        if not self._wait_accepted_stage(timeout):
            raise AcceptTimeoutError(
                f"submission {self.submission_id} not accepted within {timeout} s"
            )
        if self._stage in (Stage.FAILED, Stage.CANCELLED) and self.run_id is None:
            exc = self.exception(timeout=0)
            if exc is not None:
                raise exc

    async def wait_accepted_async(self, timeout: float | None = None) -> None:
        """Async :meth:`wait_accepted`: wait, without blocking the event loop.

        Raises:
            AcceptTimeoutError: ``timeout`` passed first (the sender may still succeed);
                a :class:`FlushTimeoutError`.
            NotAcceptedError: the server never accepted it (the error says why).
            SubmissionCancelledError: it was cancelled before it was sent.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        with self._accept_lock:
            if not self._accepted:
                self._accept_waiters.append((loop, waiter))
            else:
                waiter.set_result(None)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise AcceptTimeoutError(
                f"submission {self.submission_id} not accepted within {timeout} s"
            ) from None
        self.wait_accepted(0)  # re-raises why it was never accepted, if so

    def __await__(self) -> Generator[Any, None, SubmissionResult]:
        """``await fut``: the :class:`SubmissionResult` once processed (or its error)."""
        return asyncio.wrap_future(self).__await__()

    # The executor drives stages through these; they are not for callers.
    def _wait_accepted_stage(self, timeout: float | None) -> bool:
        """Wait until accepted (or resolved without it); False if ``timeout`` passed first."""
        with self._accept_lock:
            if self._accepted:
                return True
            if self._accepted_event is None:
                self._accepted_event = threading.Event()
            event = self._accepted_event
        return event.wait(timeout)

    def _set_accepted(self) -> None:
        with self._accept_lock:
            self._accepted = True
            event = self._accepted_event
            waiters, self._accept_waiters = self._accept_waiters, []
        if event is not None:
            event.set()
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(_resolve, waiter)

    def _mark_accepted(self, run_id: str) -> None:
        self.run_id = run_id
        if self._stage is Stage.HANDED_OVER:
            self._stage = Stage.ACCEPTED
        self._set_accepted()

    def _mark_retrying(self, delivery: Delivery) -> None:
        if self.done():
            return
        self.delivery = delivery
        self._stage = Stage.RETRYING

    def _mark_processed(self, result: SubmissionResult) -> None:
        if self.done():
            return
        self._stage = Stage.PROCESSED
        self._set_accepted()
        self.set_result(result)

    def _mark_failed(self, exc: BaseException, stage: Stage = Stage.FAILED) -> None:
        if self.done():
            return
        self._stage = stage
        self.set_exception(exc)
        self._set_accepted()  # release waiters; wait_accepted() re-raises if never accepted


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # the waiter may have timed out and been cancelled
        waiter.set_result(None)
