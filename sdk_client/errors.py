"""Exceptions raised by memory-reflect, on the client and in the deployed graph.

Every exception derives from :class:`ReflectError`, so ``except ReflectError``
catches everything this package raises on purpose::

    ReflectError
    ├── InvalidPayloadError (also ValueError)   a payload, namespace or argument is malformed
    │   └── InvalidPayloadTypeError (also TypeError)   ... because a value has the wrong type
    ├── ExecutorShutdownError (also RuntimeError)      submit() after shutdown()
    ├── SubmissionError                                 a submission did not reach its stage
    │   ├── NotAcceptedError                            the server never accepted it (retries
    │   │                                               ran out, or the server refused it)
    │   ├── ProcessingFailedError                       the run that should process it failed
    │   ├── SubmissionLostError                         accepted, then lost by the server
    │   │                                               (its run and inbox entry are gone)
    │   └── SubmissionCancelledError                    cancelled through cancel() or shutdown()
    ├── FlushTimeoutError (also TimeoutError)           flush() ran out of time
    │   └── AcceptTimeoutError                          wait_accepted() ran out of time
    ├── HistoryNotFoundError (also LookupError)         undo() of a change the history lacks
    └── ConsolidationError                              consolidate() stopped, changing nothing

Transport errors from httpx or langgraph-sdk are chained with ``raise ... from err``.
"""

from __future__ import annotations

# This module imports nothing of the client: the wire contract (and through it the
# server's graph) raises these errors without loading the executors.

__all__ = [
    "AcceptTimeoutError",
    "ConsolidationError",
    "ExecutorShutdownError",
    "FlushTimeoutError",
    "HistoryNotFoundError",
    "InvalidPayloadError",
    "InvalidPayloadTypeError",
    "NotAcceptedError",
    "ProcessingFailedError",
    "ReflectError",
    "SubmissionCancelledError",
    "SubmissionError",
    "SubmissionLostError",
]


class ReflectError(Exception):
    """Root of every exception memory-reflect raises on purpose."""


class InvalidPayloadError(ReflectError, ValueError):
    """A payload, namespace or argument is malformed; the message names the field."""


class InvalidPayloadTypeError(InvalidPayloadError, TypeError):
    """A payload field has the wrong type; the message names the field and the type expected."""


class ExecutorShutdownError(ReflectError, RuntimeError):
    """The executor was shut down and takes no more submissions."""


class SubmissionError(ReflectError):
    """A submission did not reach the stage the caller waited for.

    Attributes:
        submission_id: The id of the submission concerned.
        thread_id: The thread it was submitted to.
    """

    def __init__(self, message: str, *, submission_id: str, thread_id: str) -> None:
        super().__init__(message)
        self.submission_id = submission_id
        self.thread_id = thread_id


class NotAcceptedError(SubmissionError):
    """The server never accepted the submission: nothing of it is stored server-side."""


class ProcessingFailedError(SubmissionError):
    """The run that should have processed the submission failed.

    The submission stays in the thread's inbox on the server, so the next run
    on the thread (a later submit, or a retry) still processes it.

    Attributes:
        run_id: The failed run.
    """

    def __init__(self, message: str, *, submission_id: str, thread_id: str, run_id: str) -> None:
        super().__init__(message, submission_id=submission_id, thread_id=thread_id)
        self.run_id = run_id


class SubmissionLostError(SubmissionError):
    """The server accepted the submission, then lost it: it will never be processed.

    Its run is gone, its inbox entry is gone and no receipt says it was
    processed. ``langgraph dev`` keeps its data in memory and writes it to disk
    every few seconds, so a server killed with SIGKILL (or a crashed machine)
    restarts without what it accepted since its last write. A server with a
    durable store (LangGraph Platform's Postgres) does not lose accepted work.
    Submit it again if it matters.

    Attributes:
        run_id: The run that was to process it.
    """

    def __init__(self, message: str, *, submission_id: str, thread_id: str, run_id: str) -> None:
        super().__init__(message, submission_id=submission_id, thread_id=thread_id)
        self.run_id = run_id


class SubmissionCancelledError(SubmissionError):
    """The submission was cancelled before it was processed."""


class FlushTimeoutError(ReflectError, TimeoutError):
    """A wait (flush, wait_accepted) ran out of time; the work may still complete later."""


class AcceptTimeoutError(FlushTimeoutError):
    """``wait_accepted()`` ran out of time before the server held the submission.

    The sender may still get it accepted later. A :class:`FlushTimeoutError`, as
    ``wait_accepted()`` raised before this class existed, so old handlers still catch it.
    """


class HistoryNotFoundError(ReflectError, LookupError):
    """No change with that id in the namespace's memory history (or it has expired)."""


class ConsolidationError(ReflectError):
    """A consolidation stopped, changing nothing (the message says why).

    Extraction for the namespace is pending, one is running already, or the plan
    would retire too much.
    """
