"""Soak: a steady stream of new threads for minutes; with the sweeper on, the server stays bounded.

Every thread gets one turn and goes quiet. The server deletes threads idle for
``MEMORY_THREAD_TTL_MINUTES`` (here 3 s) every ``MEMORY_SWEEP_INTERVAL_SECONDS``
(here 1 s), so the threads it holds, and its memory, stop growing: without the
sweeper each finished thread costs ~40 KiB for good (docs/benchmarks.md, *Growth*).
Both are asserted with bounds derived from these settings (:func:`held_bound`,
``RSS_*``), not from what a run happened to measure.
"""

from __future__ import annotations

import math
import statistics
import time
import uuid
from collections.abc import Iterator

import pytest
from langgraph_sdk import get_sync_client

from tests.reliability.conftest import record, scale
from tests.reliability.support import fact, memories, server_env, tally, turn
from tests.server import Server, message, quick_executor, run_server, wait_until

pytestmark = pytest.mark.reliability

MIB = 1024 * 1024
TTL, SWEEP, WAVE, AFTER = 3.0, 1.0, 2.0, 0.5
"""Idle seconds before a thread is swept, seconds between sweeps, between waves, and
each thread's ``after_seconds``."""
RUN_ALLOWANCE = 3.0
"""Seconds a wave's runs may take to finish on a loaded 2-core machine (~1 s measured)."""
RSS_BASE_MIB, RSS_PER_THREAD_KIB = 64, 200
"""Allowed RSS growth between the first and the last quarter: allocator noise, plus a per
thread cost well above the measured one (~20 KiB without new memories, ~90 KiB with;
docs/operations.md) and well below a leak of a run's working set."""


def held_bound(per_wave: int) -> int:
    """The most threads the server may hold at once if the sweeper works.

    A thread lives from its submission until the first sweep after it has been idle for
    the TTL: ``AFTER + RUN_ALLOWANCE + TTL + SWEEP`` seconds (7.5). Waves come every
    ``WAVE`` seconds, so that many seconds' worth of waves, plus the wave just submitted,
    plus the warm-up thread. Without the sweeper every thread stays: the smoke size
    (80 threads) and the full size (1000) both lie well above this bound (5 waves).
    """
    lifetime = AFTER + RUN_ALLOWANCE + TTL + SWEEP
    return (math.ceil(lifetime / WAVE) + 1) * per_wave + 1


@pytest.fixture
def sweeping_server() -> Iterator[Server]:
    """A fresh server per variant, so one variant's heap does not flatter the other's."""
    env = server_env(
        MEMORY_THREAD_TTL_MINUTES=str(TTL / 60), MEMORY_SWEEP_INTERVAL_SECONDS=str(SWEEP)
    )
    with run_server(env) as srv:
        yield srv


def _threads_held(sdk) -> int:
    return int(sdk.threads.count())


@pytest.mark.parametrize("new_memories", [True, False], ids=["memory-each", "no-new-memory"])
def test_soak_server_stays_bounded(sweeping_server, new_memories):
    """Bounded threads; RSS growth per thread served, with and without new memories.

    With ``new_memories`` each thread stores a fact of its own (the store grows, by
    design: memories are the product). Without, every thread says the same fact
    into one shared namespace, so the same work is done per thread (a run,
    extraction, embedding, a de-duplication search) but the store does not grow:
    the difference between the two slopes is what the memories cost.
    """
    threads, seconds = scale(80, 1000), scale(16, 240)
    tag = uuid.uuid4().hex[:5]
    users = [f"soak{tag}-{i}" for i in range(threads)]
    shared = f"soak{tag}-shared"
    waves = max(1, int(seconds // WAVE))
    per_wave = -(-threads // waves)
    rss: list[float] = []
    held: list[int] = []
    futures = []
    with (
        quick_executor(sweeping_server.url) as ex,
        get_sync_client(url=sweeping_server.url, api_key=None) as sdk,
    ):
        # Warm up first: the first run loads the embedder (~300 MiB), not a leak.
        ex.submit(message(turn(shared, 1)), {"configurable": {"user_id": f"{shared}-warm"}},
                  thread_id=f"chat-{shared}-warm").result(timeout=120)  # fmt: skip
        start = time.monotonic()
        for w in range(waves):
            batch = users[w * per_wave : (w + 1) * per_wave]
            futures += [
                ex.submit(
                    message(turn(u if new_memories else shared, 0)),
                    {"configurable": {"user_id": u if new_memories else shared}},
                    after_seconds=AFTER,
                    thread_id=f"chat-{u}",
                )
                for u in batch
            ]
            # Paced, not slept: each wave starts WAVE seconds after the previous one did.
            wait_until(
                lambda w=w: time.monotonic() - start >= WAVE * (w + 1), 60, 0.05, "next wave"
            )
            rss.append(sweeping_server.rss_bytes() / MIB)
            held.append(_threads_held(sdk))
        ex.flush(timeout=300)
        errors = sum(f.exception() is not None for f in futures)
        # The last threads finish too and are swept: nothing stays behind.
        wait_until(lambda: _threads_held(sdk) <= 2, 60, 0.5, "every finished thread swept")
        owners = users if new_memories else [shared]
        found = dups = 0
        for u in owners:
            got, dup = tally(memories(sdk, u), [fact(u, 0)])
            found, dups = found + got, dups + dup
    quarter = max(1, len(rss) // 4)
    early, late = statistics.median(rss[:quarter]), statistics.median(rss[-quarter:])
    # The two medians sit 3/4 of the run apart: that many threads were served between.
    between = max(1, threads * 3 // 4)
    slope = (late - early) * 1024 / between
    record(
        f"soak: {threads} threads over {seconds} s, sweeper on, "
        + ("a new memory each" if new_memories else "no new memory (one shared fact)"),
        threads if new_memories else 1, found, dups, f"{errors}",
        f"threads held ≤ {max(held)}; server RSS median {early:.0f} MiB first quarter, "
        f"{late:.0f} MiB last quarter, max {max(rss):.0f} MiB (~{slope:.0f} KiB per thread)",
    )  # fmt: skip
    assert errors == 0 and found == len(owners) and dups == 0
    # Bounded: the sweeper keeps at most a few waves' worth of threads on the server.
    assert threads + 1 > held_bound(per_wave), "too few threads for the bound to mean anything"
    assert max(held) <= held_bound(per_wave), (held, held_bound(per_wave))
    rss_bound = RSS_BASE_MIB + RSS_PER_THREAD_KIB * between / 1024
    assert late - early <= rss_bound, f"RSS grew {late - early:.0f} MiB > {rss_bound:.0f} MiB"
