"""Redelivery on a real server: stranded work is processed with no new submission.

The LLM path against the scripted endpoint (``fail_next`` makes it answer HTTP
500), on a server whose redeliverer is fast (1 s grace, 1-2 s backoff, 3
attempts), so the schedule the defaults stretch over minutes takes seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client

from sdk_client import ProcessingFailedError, Stage
from sdk_client.cli import cli
from sdk_client.contract import validate_thread_id
from sdk_client.records import DELIVERY_KEY, delivery_namespace, inbox_namespace
from tests.llm_endpoint import ScriptedEndpoint
from tests.server import (
    FAST_REDELIVERY,
    Server,
    llm_server_env,
    quick_executor,
    run_server,
    wait_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rserver(llm: ScriptedEndpoint) -> Iterator[Server]:
    with run_server(llm_server_env(llm, **FAST_REDELIVERY)) as srv:
        yield srv


@pytest.fixture
def sdk(rserver: Server) -> Iterator[Any]:
    with get_sync_client(url=rserver.url, api_key=None) as client:
        yield client


def _turn(user: str, n: int = 0) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"I live in {user}-town-{n}."}]}


def _memories(sdk: Any, user: str) -> list[str]:
    items = sdk.store.search_items(["memories", user], limit=50)["items"]
    return sorted(i["value"]["content"]["content"] for i in items)


def _record(sdk: Any, thread: str) -> dict[str, Any] | None:
    item = sdk.store.get_item(list(delivery_namespace(thread)), DELIVERY_KEY)
    return item["value"] if item else None


def _settled(sdk: Any, thread: str) -> bool:
    """No run in flight, nothing in the inbox, no delivery record: the thread's work is done.

    Memories appear before this (``commit`` writes them first), so tests wait for it.
    """
    busy = any(r["status"] in ("pending", "running") for r in sdk.runs.list(thread))
    inbox = sdk.store.search_items(list(inbox_namespace(thread)))["items"]
    return not busy and not inbox and _record(sdk, thread) is None


def _create(sdk: Any, thread: str, user: str, n: int = 0) -> None:
    sdk.runs.create(thread, "memory_manager", input=_turn(user, n), if_not_exists="create",
                    context={"namespace": ["memories", user]})  # fmt: skip


def test_a_model_outage_is_absorbed_with_no_new_submission(sdk, llm):
    users = [f"out-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    threads = [str(uuid.uuid4()) for _ in users]
    llm.fail_next = 10_000  # down: every call answers 500
    for thread, user in zip(threads, users, strict=True):
        _create(sdk, thread, user)
    # Each thread's own run fails, then at least one redelivery attempt fails too.
    wait_until(lambda: all((_record(sdk, t) or {}).get("attempts", 0) >= 1 for t in threads),
               60, 0.2, "a redelivery attempt on every thread")  # fmt: skip
    assert all(_memories(sdk, u) == [] for u in users)
    llm.fail_next = 0  # the model is back; nobody submits anything
    wait_until(lambda: all(_settled(sdk, t) for t in threads), 60, 0.2, "every stranded turn")
    for user in users:  # processed once; the committing run cleared the delivery record
        assert _memories(sdk, user) == [f"User said: I live in {user}-town-0."]


def test_a_turn_whose_run_was_never_created_is_processed(sdk):
    """A client killed between writing the inbox and creating the run (our 2-request path)."""
    user = f"orphan-{uuid.uuid4().hex[:6]}"
    thread = str(uuid.uuid4())
    sid = str(uuid.uuid4())
    entry = {
        "namespace": ["memories", user],
        "submissions": [{"submission_id": sid, "submitted_at": time.time(), "after_seconds": 0,
                         "messages": [{"id": "m1", "role": "user", "content": "I like figs."}]}],
    }  # fmt: skip
    sdk.store.put_item(list(inbox_namespace(thread)), sid, entry, index=False)
    wait_until(lambda: _memories(sdk, user), 60, 0.2, "the orphaned turn")
    assert _memories(sdk, user) == ["User said: I like figs."]
    receipt = sdk.store.get_item(["reflection_receipts", thread], sid)
    assert receipt is not None and receipt["value"]["message_ids"] == ["m1"]


def test_work_is_parked_after_the_attempts_then_a_new_submission_runs_it(sdk, llm):
    user = f"park-{uuid.uuid4().hex[:6]}"
    thread = str(uuid.uuid4())
    llm.fail_next = 10_000
    _create(sdk, thread, user)
    record = wait_until(lambda: (r := _record(sdk, thread)) and r["parked"] and r, 90, 0.2,
                        "the work to be parked")  # fmt: skip
    assert record["attempts"] == 3 and record["max_attempts"] == 3
    assert "ended error" in record["last_error"]
    runs = sdk.runs.list(thread)
    assert len(runs) == 4 and {r["status"] for r in runs} == {"error"}  # own + 3 attempts
    llm.fail_next = 0
    _create(sdk, thread, user, 1)  # the next submission re-drives the parked work
    wait_until(lambda: _settled(sdk, thread), 60, 0.2, "both turns")
    assert len(_memories(sdk, user)) == 2
    # Parked meant parked: the only run after the three attempts is the new submission's.
    assert [r["status"] for r in sdk.runs.list(thread)] == ["success"] + ["error"] * 4


def test_a_future_waits_through_the_outage_and_resolves(rserver, llm):
    user = f"fut-{uuid.uuid4().hex[:6]}"
    llm.fail_next = 10_000
    with quick_executor(rserver.url) as ex:
        fut = ex.submit(_turn(user), {"configurable": {"user_id": user}}, thread_id=f"c-{user}")
        wait_until(lambda: fut.stage is Stage.RETRYING, 60, 0.1, "the Future to say it is retried")
        assert fut.delivery is not None and "retrying, attempt" in fut.delivery.describe()
        assert not fut.done()
        llm.fail_next = 0
        result = fut.result(timeout=60)
    assert result.created and fut.stage is Stage.PROCESSED


def test_parked_work_fails_the_future_shows_in_status_and_retry_runs_it(rserver, llm):
    user = f"cli-{uuid.uuid4().hex[:6]}"
    key = f"c-{user}"
    llm.fail_next = 10_000
    with quick_executor(rserver.url) as ex:
        fut = ex.submit(_turn(user), {"configurable": {"user_id": user}}, thread_id=key)
        with pytest.raises(ProcessingFailedError, match="parked after 3 attempts"):
            fut.result(timeout=90)
        status = ex.status(key)
        assert status.inbox == 1 and status.delivery is not None and status.delivery.parked
    runner = CliRunner()
    shown = runner.invoke(cli, ["--url", rserver.url, "status", "-t", key, "--json"])
    assert json.loads(shown.output)[0]["delivery"]["parked"] is True, shown.output
    llm.fail_next = 0
    res = runner.invoke(cli, ["--url", rserver.url, "retry", "-t", key])
    assert res.exit_code == 0 and "running its waiting work again" in res.output, res.output
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        wait_until(lambda: _settled(sdk, validate_thread_id(key)), 60, 0.2, "the parked turn")
        assert _memories(sdk, user)
