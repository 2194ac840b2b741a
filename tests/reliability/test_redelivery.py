"""The server owns delivery: stranded work reaches memory with no further submission.

Rows for the reliability table, each with "reached memory" = "submitted": a
model outage that outlasts each thread's first retry, turns whose run was never
created (a client killed between its two requests), and langmem's own executor
(whose superseded runs are rolled back with their input) against our server.
The redeliverer runs fast here (1 s grace, 1-2 s backoff); its defaults stretch
the same schedule over minutes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import SubmissionFuture
from sdk_client.contract import validate_thread_id
from sdk_client.records import inbox_namespace
from tests.llm_endpoint import ScriptedEndpoint
from tests.reliability.conftest import record, scale
from tests.reliability.support import fact, memories, server_env, submit, turn
from tests.server import (
    FAST_REDELIVERY,
    Server,
    llm_server_env,
    message,
    quick_executor,
    run_server,
    wait_until,
)

pytestmark = pytest.mark.reliability

FAST = FAST_REDELIVERY | {"MEMORY_REDELIVERY_ATTEMPTS": "5"}


@pytest.fixture(scope="module")
def llm_server(llm: ScriptedEndpoint) -> Iterator[Server]:
    with run_server(llm_server_env(llm, **FAST)) as srv:
        yield srv


@pytest.fixture(scope="module")
def offline_server() -> Iterator[Server]:
    with run_server(server_env(**FAST)) as srv:
        yield srv


def _reached(url: str, users: list[str], turns: int, said: bool = False) -> int:
    with get_sync_client(url=url, api_key=None) as sdk:
        return sum(
            (f"User said: {turn(u, n)}" if said else fact(u, n)) in memories(sdk, u)
            for u in users
            for n in range(turns)
        )


def test_a_model_outage_is_absorbed_without_a_later_submission(llm, llm_server):
    count = scale(3, 20)
    users = [f"rd-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    llm.fail_next = 1_000_000
    with quick_executor(llm_server.url) as ex:
        futures: list[SubmissionFuture] = [submit(ex, u, turn(u, 0)) for u in users]
        try:
            # Down until every thread's own run and its first retry have failed.
            wait_until(lambda: all(f.delivery and f.delivery.attempts >= 1 for f in futures),
                       120, 0.2, "a failed retry on every thread")  # fmt: skip
        finally:
            llm.fail_next = 0
        errors = [f.exception(timeout=120) for f in futures]
    reached = _reached(llm_server.url, users, 1, said=True)
    record(
        f"model endpoint down until each thread's first retry failed, then up; no later "
        f"submission ({count} threads)",
        count, reached, 0, f"{sum(e is not None for e in errors)} Futures failed",
        "redelivered by the server (backoff 1-2 s here; defaults 15-240 s)",
    )  # fmt: skip
    assert not any(errors) and reached == count


def test_turns_whose_run_was_never_created_are_processed(offline_server):
    count = scale(5, 50)
    users = [f"nc-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    with get_sync_client(url=offline_server.url, api_key=None) as sdk:
        for u in users:  # what our 2-request client leaves when killed between its requests
            sid = str(uuid.uuid4())
            entry = {"namespace": ["memories", u], "submissions": [{
                "submission_id": sid, "submitted_at": time.time(), "after_seconds": 0,
                "messages": [{"id": sid, "role": "user", "content": turn(u, 0)}]}]}  # fmt: skip
            tid = validate_thread_id(f"chat-{u}")
            sdk.store.put_item(list(inbox_namespace(tid)), sid, entry, index=False)
    wait_until(lambda: _reached(offline_server.url, users, 1) == count, 120, 0.5, "every turn")
    record(
        f"client killed between inbox write and run create ({count} turns)",
        count, _reached(offline_server.url, users, 1), 0, "none",
        "no run existed; the server created one",
    )  # fmt: skip


def test_langmems_executor_loses_nothing_on_our_server(offline_server):
    from langmem import ReflectionExecutor as LangmemExecutor

    count, k = scale(3, 20), 5
    users = [f"lm-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    executors = []
    for u in users:
        lm = LangmemExecutor("memory_manager", ("memories", u), url=offline_server.url)
        executors.append(lm)
        tid = str(uuid.uuid4())
        for n in range(k):  # each submission supersedes (rolls back) the previous run
            lm.submit(message(turn(u, n)), config={"configurable": {"thread_id": tid}},
                      after_seconds=2).result(timeout=30)  # fmt: skip
    try:
        wait_until(lambda: _reached(offline_server.url, users, k) == count * k, 120, 0.5,
                   "every turn")  # fmt: skip
    finally:
        for lm in executors:
            lm.shutdown()
            lm._client.http.client.close()  # langmem never closes the client it built
    record(
        f"langmem's own executor, bursts of {k} superseding turns ({count} threads)",
        count * k, _reached(offline_server.url, users, k), 0, "none",
        "the server captured each superseded run's input",
    )  # fmt: skip
