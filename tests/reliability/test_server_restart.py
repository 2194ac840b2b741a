"""Server restart on the same data directory: SIGTERM loses nothing; SIGKILL is told, never hidden.

One scripted model (``tests/llm_endpoint.py``) serves every server, so a run can be
held *running* (its model call in flight) when the server goes down. Each phase
has one running run and pending work on other threads, then stops the server and
starts a new one on the same port and data directory; the executor in this
process lives through the restart and keeps polling.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ReflectionExecutor, SubmissionLostError
from tests.llm_endpoint import ScriptedEndpoint
from tests.reliability.conftest import record, scale
from tests.reliability.support import memories, submit, tally, turn
from tests.server import Server, free_port, llm_server_env, quick_executor, run_server, wait_until

pytestmark = pytest.mark.reliability


def _env(llm: ScriptedEndpoint) -> dict[str, str | None]:
    # Keep the dev server's own request retries from hiding a lost run.
    return llm_server_env(llm, MEMORY_THREAD_TTL_MINUTES="0")


def _said(user: str, n: int) -> str:
    return f"User said: {turn(user, n)}"


# What accepted work lives in: runs (ops) and inbox entries (store). Other files, such as
# the store's vectors, are rewritten only when they change, so they are not waited for.
_HOLDS_ACCEPTED_WORK = (".langgraph_ops.pckl", "store.pckl")


def _data_written_since(workdir: Path, t: float) -> bool:
    files = [workdir / ".langgraph_api" / name for name in _HOLDS_ACCEPTED_WORK]
    return all(f.exists() and f.stat().st_mtime > t for f in files)


def _phase(server: Server, llm: ScriptedEndpoint, ex: ReflectionExecutor, pending: int):
    """A run held in its model call on one thread, and ``pending`` threads with a due run."""
    tag = uuid.uuid4().hex[:5]
    running = f"run{tag}"
    before = llm.calls
    llm.gate.clear()
    futures = {running: [submit(ex, running, turn(running, 0), after=0)]}
    llm.wait_calls(before + 1, timeout=60)  # that run is inside extract now
    for i in range(pending):
        user = f"pend{tag}-{i}"
        futures[user] = [submit(ex, user, turn(user, n), after=6.0) for n in range(2)]
    ex.wait_accepted(timeout=60)
    return futures


def _outcome(server_url: str, futures) -> tuple[int, int, int, int, int]:
    """(submitted, in memory, duplicates, processed futures, lost futures)."""
    flat = [f for fs in futures.values() for f in fs]
    for f in flat:
        f.exception(timeout=120)  # every Future settles: processed or failed, never hangs
    with get_sync_client(url=server_url, api_key=None) as sdk:
        found = dups = 0
        for user, fs in futures.items():
            got, dup = tally(memories(sdk, user), [_said(user, n) for n in range(len(fs))])
            found, dups = found + got, dups + dup
    processed = sum(1 for f in flat if f.exception() is None)
    lost = sum(1 for f in flat if isinstance(f.exception(), SubmissionLostError))
    return len(flat), found, dups, processed, lost


def test_restart_after_sigterm_then_sigkill(llm, tmp_path):
    pending = scale(5, 50)
    port = free_port()
    env = _env(llm)
    with quick_executor(f"http://127.0.0.1:{port}") as ex:
        # SIGTERM: the server shuts down cleanly and writes everything it holds.
        with run_server(env, port=port, workdir=tmp_path) as first:
            futures = _phase(first, llm, ex, pending)
            first.stop(signal.SIGTERM)
        llm.gate.set()
        with run_server(env, port=port, workdir=tmp_path) as second:
            submitted, found, dups, processed, lost = _outcome(second.url, futures)
            record(
                f"server SIGTERM + restart (1 running run, {pending} threads pending)",
                submitted, found, dups, f"{submitted - processed} Futures failed",
            )  # fmt: skip
            assert found == submitted == processed and dups == 0

            # SIGKILL: work the server wrote to disk survives; work accepted after its
            # last write (every 10 s) is lost, and the Futures say so.
            old = _phase(second, llm, ex, pending)
            accepted_at = time.time()
            wait_until(lambda: _data_written_since(tmp_path, accepted_at), 30, 0.2, "a data write")
            new = _phase(second, llm, ex, pending)
            second.stop(signal.SIGKILL)
        llm.gate.set()
        with run_server(env, port=port, workdir=tmp_path) as third:
            submitted, found, dups, processed, lost = _outcome(third.url, old)
            record(
                "server SIGKILL + restart: accepted before its last data write",
                submitted, found, dups, f"{submitted - processed} Futures failed",
            )  # fmt: skip
            assert found == submitted == processed and dups == 0
            submitted, found, dups, processed, lost = _outcome(third.url, new)
            record(
                "server SIGKILL + restart: accepted after its last data write",
                submitted, found, dups, f"{lost} SubmissionLostError",
                f"{submitted - found} lost: langgraph dev writes its data every 10 s; "
                "Postgres-backed servers do not lose it",
            )  # fmt: skip
            # The truth, whichever way it went: processed means in memory, and the rest fail.
            assert processed == found and processed + lost == submitted and dups == 0
