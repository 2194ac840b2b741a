"""The model endpoint fails: the run fails visibly, the inbox keeps the turns, the next run has them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ProcessingFailedError
from tests.llm_endpoint import ScriptedEndpoint
from tests.reliability.conftest import record, scale
from tests.reliability.support import memories, submit, tally, turn
from tests.server import Server, llm_server_env, quick_executor, run_server

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def llm_server(llm: ScriptedEndpoint) -> Iterator[Server]:
    env = llm_server_env(
        llm,
        # Short, so a held endpoint fails its run in ~3 × 2 s (the OpenAI client retries twice).
        MEMORY_MODEL_TIMEOUT="2",
        # Off: these rows show what the next submission does alone (test_redelivery.py: on).
        MEMORY_REDELIVERY_ATTEMPTS="0",
    )
    with run_server(env) as srv:
        yield srv


def _fail_then_recover(
    server: Server, fault: str, break_model: Callable[[], None], mend_model: Callable[[], None]
) -> None:
    """Each thread's first run meets a broken model; its next run must process both turns."""
    count = scale(3, 20)
    users = [f"xf-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    failures = held = 0
    with quick_executor(server.url) as ex:
        try:
            for u in users:  # one at a time, so each run meets the broken model
                break_model()
                fut = submit(ex, u, turn(u, 0))
                failures += isinstance(fut.exception(timeout=120), ProcessingFailedError)
                held += ex.status(f"chat-{u}").inbox
        finally:
            mend_model()
        with get_sync_client(url=server.url, api_key=None) as sdk:
            before = sum(len(memories(sdk, u)) for u in users)
        later = [submit(ex, u, turn(u, 1)) for u in users]  # the next run on each thread
        errors = [f.exception(timeout=120) for f in later]
    with get_sync_client(url=server.url, api_key=None) as sdk:
        found = dups = 0
        for u in users:
            expected = [f"User said: {turn(u, n)}" for n in range(2)]
            got, dup = tally(memories(sdk, u), expected)
            found, dups = found + got, dups + dup
    record(
        f"{fault}, redelivery off ({count} threads, then a later turn each)",
        2 * count, found, dups, f"{failures} ProcessingFailedError",
        f"{held} turns held in the inbox meanwhile, processed by the next run",
    )  # fmt: skip
    assert failures == count and held == count and before == 0
    assert not any(errors) and found == 2 * count and dups == 0


def test_model_errors_then_recovers(llm, llm_server):
    def fail() -> None:
        llm.fail_next = 3  # the OpenAI client retries a 500 twice itself

    _fail_then_recover(llm_server, "model endpoint answers HTTP 500", fail, lambda: None)
    assert llm.fail_next == 0


def test_model_hangs_then_recovers(llm, llm_server):
    # The endpoint holds every reply; MEMORY_MODEL_TIMEOUT=2 abandons each request.
    _fail_then_recover(
        llm_server, "model endpoint hangs, MEMORY_MODEL_TIMEOUT=2", llm.gate.clear, llm.gate.set
    )
