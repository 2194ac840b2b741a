"""One turn of a background job across every server process: a claim per time slot.

The sweeper and the redeliverer run in every server process (they start with the
mounted app's lifespan). On ``langgraph dev`` there is one process; on a deployment
with several (``deploy/local_cluster.py``) each would sweep and scan the same
database at once: two scans could both see a thread's work as stranded and each
count an attempt, two sweeps walk the same threads. So each turn is claimed first.

How: time is cut into slots of the job's interval, and a slot is claimed by
creating a thread whose id is derived from the job and the slot, with
``if_exists="raise"``. Thread ids are unique in the server's own database, so on
any runtime exactly one process's creation succeeds and the others get 409. It
needs nothing the server does not already have (no advisory lock, no clock
agreement beyond the slot length, no lease renewal). A process that dies holding
a slot loses that turn only: the next slot is claimed anew, and both jobs are safe
to stop anywhere (they re-read everything each turn).

The claim threads carry no ``graph_id`` and no owner, so the sweeper, the inspector
and every API-key user's listings skip them; each winner deletes the claims of the
slots before its own, so one or two exist at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError

from graphs.server import access

__all__ = [
    "CLAIM_METADATA",
    "MIN_INTERVAL_SECONDS",
    "claim",
    "each_slot",
    "slot_of",
    "slot_thread_id",
    "until_next_slot",
]

logger = logging.getLogger(__name__)

CLAIM_METADATA = "memory_reflect_claim"
"""Metadata key on a claim thread: the job's name."""

_NAMESPACE = uuid.UUID("0b6f6a53-3c59-4f38-9f44-7a1ac1d2b7d1")
MIN_INTERVAL_SECONDS = 0.5
"""The shortest period a job may run at: each turn creates a claim thread, and below half
a second the claims would be the server's load (and a period of 0 has no slots)."""

_KEPT = 20  # claims looked at per turn: there are one or two, more only after failures


def slot_of(period: float, now: float) -> int:
    """The slot ``now`` falls in, for a job run every ``period`` seconds."""
    return math.floor(now / period)


def slot_thread_id(job: str, slot: int) -> str:
    """The claim thread's id for one job and slot (the same in every process)."""
    return str(uuid.uuid5(_NAMESPACE, f"{access.ACCESS.job_salt}:{job}:{slot}"))


def until_next_slot(period: float, now: float | None = None, jitter: float | None = None) -> float:
    """Seconds to sleep until just after the next slot starts.

    Every process then tries each slot once; the jitter (up to a tenth of the period,
    at most a second) keeps them from all asking in the same instant.
    """
    now = time.time() if now is None else now
    jitter = random.random() if jitter is None else jitter
    start = (slot_of(period, now) + 1) * period
    return start - now + jitter * min(period / 10, 1.0)


async def claim(client: LangGraphClient, job: str, period: float, now: float | None = None) -> bool:
    """True if this process got ``job``'s current slot (exactly one process does)."""
    slot = slot_of(period, time.time() if now is None else now)
    try:
        await client.threads.create(
            thread_id=slot_thread_id(job, slot),
            if_exists="raise",
            metadata={CLAIM_METADATA: job, "slot": slot},
        )
    except ConflictError:
        return False
    # Earlier slots' claims (the previous winner's, or one whose winner died) go now.
    for thread in await client.threads.search(metadata={CLAIM_METADATA: job}, limit=_KEPT):
        if (thread.get("metadata") or {}).get("slot", slot) < slot:
            with contextlib.suppress(NotFoundError):
                await client.threads.delete(str(thread["thread_id"]))
    return True


async def each_slot(
    client: LangGraphClient, job: str, period: float, turn: Callable[[], Awaitable[object]]
) -> None:
    """Run ``turn`` once every ``period`` seconds in whichever process claims it, until cancelled.

    A failed claim or turn is logged, not fatal: the next slot tries again.
    """
    while True:
        await asyncio.sleep(until_next_slot(period))
        try:
            if await claim(client, job, period):
                await turn()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("memory-reflect: %s failed; will retry next interval", job)
