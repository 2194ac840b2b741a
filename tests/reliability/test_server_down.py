"""Server down when submitting: retries with backoff, a typed error when they run out."""

from __future__ import annotations

import uuid

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import NotAcceptedError, RetryPolicy, Stage
from tests.reliability.conftest import record, scale
from tests.reliability.support import fact, memories, server_env, submit, tally, turn
from tests.server import free_port, quick_executor, run_server

pytestmark = pytest.mark.reliability


def test_retries_run_out_with_a_typed_error():
    count = scale(5, 50)
    users = [f"down-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    policy = RetryPolicy(max_attempts=4, initial_delay=0.05, max_delay=0.2)
    with quick_executor(f"http://127.0.0.1:{free_port()}", retry=policy) as ex:  # nothing listens
        futures = [submit(ex, u, turn(u, 0)) for u in users]
        errors = [f.exception(timeout=60) for f in futures]
    typed = sum(isinstance(e, NotAcceptedError) for e in errors)
    ever_accepted = sum(f.run_id is not None or f.stage is not Stage.FAILED for f in futures)
    record(
        f"server down at submit, retries run out ({count} turns)",
        count, 0, 0, f"{typed} NotAcceptedError",
        f"{ever_accepted} reported accepted",
    )  # fmt: skip
    assert typed == count and ever_accepted == 0


def test_server_coming_up_during_retries_gets_everything():
    count = scale(5, 50)
    users = [f"late-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    port = free_port()
    # Backoff capped at 2 s, 60 tries: about two minutes for the server to come up.
    policy = RetryPolicy(max_attempts=60, initial_delay=0.2, max_delay=2.0)
    with quick_executor(f"http://127.0.0.1:{port}", retry=policy) as ex:
        futures = [submit(ex, u, turn(u, 0)) for u in users]
        with run_server(server_env(), port=port) as server:
            errors = [f.exception(timeout=180) for f in futures]
            with get_sync_client(url=server.url, api_key=None) as sdk:
                found = dups = 0
                for u in users:
                    got, dup = tally(memories(sdk, u), [fact(u, 0)])
                    found, dups = found + got, dups + dup
    failed = sum(e is not None for e in errors)
    record(
        f"server down at submit, up within the retries ({count} turns)",
        count, found, dups, f"{failed}",
    )  # fmt: skip
    assert failed == 0 and found == count and dups == 0
