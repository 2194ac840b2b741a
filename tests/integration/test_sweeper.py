"""The idle-thread sweeper on a real server: finished threads go, accepted work stays."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError
from langgraph_sdk.schema import Thread

from sdk_client import ReflectionExecutor
from sdk_client.contract import normalize_payload
from sdk_client.records import (
    inbox_entry,
    inbox_namespace,
    receipts_namespace,
    submission_record,
)
from tests.server import Server, isolated_env, run_server, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sweeping_server() -> Iterator[Server]:
    """A server that deletes threads idle for 3 s, checking every 0.5 s."""
    env = isolated_env(MEMORY_THREAD_TTL_MINUTES="0.05", MEMORY_SWEEP_INTERVAL_SECONDS="0.5")
    with run_server(env) as srv:
        yield srv


def _exists(sdk, thread_id: str) -> Thread | None:
    try:
        return sdk.threads.get(thread_id)
    except NotFoundError:
        return None


def test_finished_threads_are_swept_and_their_memories_kept(sweeping_server):
    user = f"s-{uuid.uuid4().hex[:6]}"
    with ReflectionExecutor("memory_manager", ("memories", user), url=sweeping_server.url) as ex:
        fut = ex.submit({"messages": [{"role": "user", "content": "I live in Porto."}]},
                        after_seconds=0, thread_id=f"swept-{user}")  # fmt: skip
        result = fut.result(timeout=60)
    with get_sync_client(url=sweeping_server.url, api_key=None) as sdk:
        wait_until(lambda: _exists(sdk, fut.thread_id) is None, 60, 0.2, "thread swept")
        receipts = sdk.store.search_items(list(receipts_namespace(fut.thread_id)))["items"]
        memories = sdk.store.search_items(["memories", user])["items"]
    assert result.created
    assert receipts == []
    assert [m["value"]["content"]["content"] for m in memories] == ["User lives in Porto."]


def test_threads_holding_accepted_work_are_kept(sweeping_server):
    """An unprocessed inbox entry and a pending run both keep their thread alive."""
    user = f"s-{uuid.uuid4().hex[:6]}"
    with get_sync_client(url=sweeping_server.url, api_key=None) as sdk:
        # A thread whose last run failed leaves its inbox behind: simulate exactly that state,
        # due in 10 minutes, so the redeliverer does not process it during the test.
        orphan = sdk.threads.create(metadata={"graph_id": "memory_manager"})["thread_id"]
        oslo = normalize_payload({"messages": [{"role": "user", "content": "I live in Oslo."}]})
        entry = inbox_entry([submission_record("sub-1", oslo, time.time(), 600.0)], None)
        sdk.store.put_item(list(inbox_namespace(orphan)), "sub-1", dict(entry))
        with ReflectionExecutor(
            "memory_manager", ("memories", user), url=sweeping_server.url
        ) as ex:
            pending = ex.submit({"messages": [{"role": "user", "content": "I like tea."}]},
                                after_seconds=600, thread_id=f"pending-{user}")  # fmt: skip
            pending.wait_accepted(timeout=30)
            # A thread finished after both is swept: the sweeper has passed them by then.
            done = ex.submit({"messages": [{"role": "user", "content": "I like jazz."}]},
                             after_seconds=0, thread_id=f"done-{user}")  # fmt: skip
            done.result(timeout=60)
            wait_until(lambda: _exists(sdk, done.thread_id) is None, 60, 0.2, "finished swept")
            assert _exists(sdk, orphan) is not None
            assert _exists(sdk, pending.thread_id) is not None
            assert ex.cancel(f"pending-{user}") == 1
