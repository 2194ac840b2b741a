"""How handed-over submissions reach the background senders and leave them in batches.

A thread always goes to the same sender, so its submissions reach the server
in order; a sender takes whatever queued up behind its first submission and
sends each thread's share as few requests as it can.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence

from sdk_client._ledger import Ledger
from sdk_client._submission import Request, Submission

__all__ = ["group_by_thread", "next_batch", "sender_for", "take_batch"]


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


def next_batch(
    first: Submission | None,
    get_nowait: Callable[[], Submission | None],
    empty: type[Exception],
    ledger: Ledger,
) -> tuple[Iterator[tuple[Request, list[Submission]]], bool]:
    """What a sender sends next, from the item it waited for and those queued behind it.

    Returns:
        The requests, each with the submissions it carries, and True once the
        sender met the stop marker (``None``) and should end after sending them.
        The requests are built lazily, one thread's group at a time, so a group
        skips what was cancelled, and counts its delay, as of when it is sent.
    """
    if first is None:
        return iter(()), True
    batch, stop = take_batch(first, get_nowait, empty)
    return (pair for group in group_by_thread(batch) for pair in ledger.requests(group)), stop
