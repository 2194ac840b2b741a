"""A client process killed by SIGKILL: after acceptance nothing is lost; before, the loss is visible."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from sdk_client.contract import inbox_namespace, validate_thread_id
from tests.reliability.conftest import record, scale
from tests.reliability.support import fact, memories, tally
from tests.server import wait_until

pytestmark = pytest.mark.reliability

# The child submits its turns, optionally waits until the server holds them, prints the
# stage its caller could see, and dies by SIGKILL: no atexit, no shutdown, no flush.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from tests.reliability.support import executor, submit, turn

    url, user, count, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    ex = executor(url)
    futures = [submit(ex, user, turn(user, n), after=3.0) for n in range(count)]
    if wait:
        ex.wait_accepted(timeout=60)
    print(",".join(f.stage.value for f in futures), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _run_child(url: str, user: str, count: int, wait: bool) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, url, user, str(count), "1" if wait else "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.stdout.strip().split(",")


def test_killed_after_acceptance_loses_nothing(rserver):
    clients, turns = scale(2, 20), scale(3, 5)
    users = [f"ka-{uuid.uuid4().hex[:6]}" for _ in range(clients)]
    stages = [s for user in users for s in _run_child(rserver.url, user, turns, wait=True)]
    assert set(stages) == {"accepted"}
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        expected = {u: [fact(u, n) for n in range(turns)] for u in users}

        def all_in() -> bool:
            return all(tally(memories(sdk, u), expected[u])[0] == turns for u in users)

        wait_until(all_in, 90, 0.3, "every accepted turn in memory")
        found = dups = 0
        for u in users:
            got, dup = tally(memories(sdk, u), expected[u])
            found, dups = found + got, dups + dup
    record(
        f"client SIGKILLed after wait_accepted ({clients} clients × {turns} turns)",
        len(stages),
        found,
        dups,
        "none needed",
    )
    assert found == clients * turns and dups == 0


def test_killed_before_acceptance_is_visible(rserver):
    """Killed right after submit() returned: the caller had seen no acceptance."""
    clients, turns = scale(2, 10), 3
    users = [f"kb-{uuid.uuid4().hex[:6]}" for _ in range(clients)]
    stages = [s for user in users for s in _run_child(rserver.url, user, turns, wait=False)]
    # What the caller could see when it died: nothing it submitted was accepted yet.
    not_accepted = stages.count("handed_over")
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        # A run created before the kill processes its turns; give any such run time to finish.
        found = dups = held = 0
        for u in users:
            tid = validate_thread_id(f"chat-{u}")
            # No thread or no run (IndexError, 404): nothing got that far.
            with contextlib.suppress(IndexError, NotFoundError):
                sdk.runs.join(tid, sdk.runs.list(tid, limit=1)[0]["run_id"])
            got, dup = tally(memories(sdk, u), [fact(u, n) for n in range(turns)])
            found, dups = found + got, dups + dup
            items = sdk.store.search_items(list(inbox_namespace(tid)))["items"]
            held += sum(len(i["value"]["submissions"]) for i in items)
    record(
        f"client SIGKILLed right after submit(), before acceptance ({clients} clients × {turns} turns)",
        len(stages),
        found,
        dups,
        f"{not_accepted} seen as not accepted",
        f"{len(stages) - found - held} lost, {held} held in an inbox for the thread's next run; "
        "callers must wait_accepted() before exiting",
    )
    # Nothing the caller saw accepted may be missing; what it did not see accepted may be lost.
    accepted_seen = len(stages) - not_accepted
    assert found + held >= accepted_seen and dups == 0
