"""``with executor:``, for the two sync executors (remote and local).

Leaving a ``with`` block shuts the executor down, waiting. Interpreter exit is
each executor's own business: the remote executors' registry is in
:mod:`sdk_client.executor`, the local executor's in :mod:`sdk_client.local`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["ShutdownOnExit"]


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
