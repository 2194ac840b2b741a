"""Supersession under load: many threads, bursts with random gaps → every turn, one run a burst."""

from __future__ import annotations

import random
import time
import uuid

import pytest
from langgraph_sdk import get_sync_client

from sdk_client.contract import validate_thread_id
from tests.burst import Burst
from tests.reliability.conftest import record, scale
from tests.reliability.support import fact, memories, submit, tally, turn
from tests.server import quick_executor

pytestmark = pytest.mark.reliability


def test_supersession_under_load(rserver):
    threads, bursts, per_burst = scale(20, 200), scale(2, 3), scale(3, 5)
    rng = random.Random(4)
    tag = uuid.uuid4().hex[:5]
    users = [f"sl{tag}-{i}" for i in range(threads)]
    after = scale(3.0, 8.0)
    # One run a burst needs each round accepted before the previous round's runs fall due;
    # that premise is timed per round, so a stalled machine is named as such (tests/burst.py).
    timing = Burst(after)
    futures = []
    with quick_executor(rserver.url) as ex:
        for b in range(bursts):
            for k in range(per_burst):
                with timing.submission(b):
                    for user in users:
                        futures.append(submit(ex, user, turn(user, b * per_burst + k), after))
                    ex.wait_accepted(timeout=120)
                time.sleep(rng.uniform(0.0, 0.4))  # a random gap inside the burst
            ex.flush(timeout=300)  # the burst goes quiet, is processed; then the next one
            time.sleep(rng.uniform(0.0, 1.0))
    errors = [f.exception() for f in futures if f.exception() is not None]
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        found = dups = 0
        runs = []
        for user in users:
            expected = [fact(user, n) for n in range(bursts * per_burst)]
            got, dup = tally(memories(sdk, user), expected)
            found, dups = found + got, dups + dup
            runs.append(len(sdk.runs.list(validate_thread_id(f"chat-{user}"), limit=100)))
    runs_per_burst = sum(runs) / (threads * bursts)
    record(
        f"supersession under load ({threads} threads × {bursts} bursts × {per_burst} turns)",
        len(futures),
        found,
        dups,
        f"{len(errors)}",
        f"{runs_per_burst:.2f} runs per burst",
    )
    assert not errors
    assert found == len(futures) and dups == 0
    with timing.outcome():
        assert runs_per_burst == 1.0, runs
