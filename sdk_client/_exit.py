"""At interpreter exit, nothing handed over to a remote executor is dropped silently.

Live executors register here; one exit hook asks each to finish what it can
within its ``exit_timeout`` (the sync executor's sender threads go on sending;
the async one's event loop is gone by then, so it sends over a sync client)
and to name, in a warning, what is still unsent.

Leaving a ``with`` block is the other exit: :class:`ShutdownOnExit` gives the
sync executors (remote and local) their context manager.
"""

from __future__ import annotations

import atexit
import logging
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from sdk_client.types import Stage, SubmissionFuture

__all__ = ["ShutdownOnExit", "forget", "track", "warn_lost_at_exit"]


class _AtExit(Protocol):
    def _at_exit(self) -> None: ...


_LIVE: weakref.WeakSet[_AtExit] = weakref.WeakSet()


def track(executor: _AtExit) -> None:
    """Call ``executor._at_exit()`` at interpreter exit, unless :func:`forget` comes first."""
    _LIVE.add(executor)


def forget(executor: _AtExit) -> None:
    """The executor was shut down: nothing left to do for it at exit."""
    _LIVE.discard(executor)


class ShutdownOnExit:
    """``with executor:`` shuts it down, waiting, when the block ends (raised or not)."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking submissions (each executor says what it finishes first)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(wait=True)


@atexit.register
def _drain_all() -> None:
    for executor in list(_LIVE):
        executor._at_exit()


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
