"""The server's background jobs on two processes: redelivery, parking and the sweeper.

A second cluster (keys, the LLM path, the vector index, as ``cluster``), whose
redeliverer is fast (``FAST_REDELIVERY``: 1 s grace, 1-2 s backoff, 3 attempts) and
whose sweeper deletes threads idle for 6 s, checking every second. Every process runs
both jobs; each turn of a job is claimed (``graphs/server/lease.py``), so attempts are counted
once whichever process makes them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import NotFoundError

from deploy.local_cluster import Cluster
from graphs.server.lease import claim
from sdk_client import ProcessingFailedError
from sdk_client.cli import cli
from sdk_client.records import inbox_namespace
from tests.integration.test_redelivery import _memories, _record, _turn
from tests.llm_endpoint import ScriptedEndpoint
from tests.scaleout.conftest import cluster_env, keyed_cluster, make_executor
from tests.server import ALICE_KEY, FAST_REDELIVERY, wait_until

pytestmark = pytest.mark.scaleout

SWEEP = {"MEMORY_THREAD_TTL_MINUTES": "0.1", "MEMORY_SWEEP_INTERVAL_SECONDS": "1"}


@pytest.fixture(scope="module")
def bg(llm: ScriptedEndpoint) -> Iterator[Cluster]:
    with keyed_cluster("background", cluster_env(llm, **FAST_REDELIVERY, **SWEEP)) as c:
        yield c


@pytest.fixture
def sdks(bg: Cluster) -> Iterator[tuple[Any, Any]]:
    with (
        get_sync_client(url=bg.nodes[0].url, api_key=ALICE_KEY) as a,
        get_sync_client(url=bg.nodes[1].url, api_key=ALICE_KEY) as b,
    ):
        yield a, b


def _thread_or_none(sdk: Any, thread: str) -> Any:
    try:
        return sdk.threads.get(thread)
    except NotFoundError:
        return None


def test_a_model_outage_is_absorbed_with_no_new_submission(sdks, llm):
    a, b = sdks
    users = [f"out-{uuid.uuid4().hex[:6]}" for _ in range(4)]
    threads = [str(uuid.uuid4()) for _ in users]
    llm.fail_next = 10_000  # down: every call answers 500
    try:
        for i, (thread, user) in enumerate(zip(threads, users, strict=True)):
            (a, b)[i % 2].runs.create(thread, "memory_manager", input=_turn(user),
                                      if_not_exists="create",
                                      context={"namespace": ["memories", user]})  # fmt: skip
        wait_until(lambda: all((_record(a, t) or {}).get("attempts", 0) >= 1 for t in threads),
                   90, 0.2, "a redelivery attempt on every thread")  # fmt: skip
        assert all(_memories(b, u) == [] for u in users)
    finally:
        llm.fail_next = 0  # the model is back; nobody submits anything
    for user in users:
        wait_until(lambda u=user: _memories(b, u), 90, 0.2, f"{user}'s stranded turn")
    for thread, user in zip(threads, users, strict=True):
        assert _memories(a, user) == [f"User said: I live in {user}-town-0."]
        assert a.store.search_items(list(inbox_namespace(thread)))["items"] == []


def test_a_process_killed_mid_redelivery_loses_nothing(bg, sdks, llm):
    """Both processes scan and redeliver; one is SIGKILLed mid-outage, the other finishes."""
    _a, b = sdks
    users = [f"kill-{uuid.uuid4().hex[:6]}" for _ in range(4)]
    threads = [str(uuid.uuid4()) for _ in users]
    llm.fail_next = 10_000
    try:
        for thread, user in zip(threads, users, strict=True):
            b.runs.create(thread, "memory_manager", input=_turn(user), if_not_exists="create",
                          context={"namespace": ["memories", user]})  # fmt: skip
        wait_until(lambda: all((_record(b, t) or {}).get("attempts", 0) >= 1 for t in threads),
                   90, 0.2, "a redelivery attempt on every thread")  # fmt: skip
        bg.kill(0)  # whatever it was scanning, claiming or running dies with it
    finally:
        llm.fail_next = 0
    try:
        for user in users:
            wait_until(lambda u=user: _memories(b, u), 120, 0.5, f"{user}'s stranded turn")
        for thread, user in zip(threads, users, strict=True):
            assert _memories(b, user) == [f"User said: I live in {user}-town-0."]
            assert b.store.search_items(list(inbox_namespace(thread)))["items"] == []
    finally:
        bg.restart(0)


def test_parked_work_shows_on_either_process_and_retry_runs_it(bg, sdks, llm):
    a, b = sdks
    user = f"cli-{uuid.uuid4().hex[:6]}"
    key = f"c-{user}"
    llm.fail_next = 10_000
    try:
        with make_executor(bg.nodes[0].url) as ex:
            fut = ex.submit(_turn(user), {"configurable": {"user_id": user}}, thread_id=key)
            with pytest.raises(ProcessingFailedError, match="parked after 3 attempts"):
                fut.result(timeout=120)
        runs = b.runs.list(fut.thread_id)
        # Its own run and three attempts, each counted once across the two processes.
        assert len(runs) == 4 and {r["status"] for r in runs} == {"error"}
        assert (_record(b, fut.thread_id) or {}).get("attempts") == 3
        runner = CliRunner()
        for node in bg.nodes:
            args = ["--url", node.url, "--api-key", ALICE_KEY, "status", "-t", key, "--json"]
            shown = runner.invoke(cli, args)
            assert json.loads(shown.output)[0]["delivery"]["parked"] is True, shown.output
    finally:
        llm.fail_next = 0
    res = runner.invoke(cli, ["--url", bg.nodes[1].url, "--api-key", ALICE_KEY, "retry", "-t", key])
    assert res.exit_code == 0 and "running its waiting work again" in res.output, res.output
    wait_until(lambda: _memories(a, user), 90, 0.2, "the parked turn")
    assert _memories(b, user) == [f"User said: I live in {user}-town-0."]


def test_the_sweeper_deletes_idle_threads_and_keeps_memories(bg, sdks):
    a, b = sdks
    user = f"sw-{uuid.uuid4().hex[:6]}"
    with make_executor(bg.nodes[1].url) as ex:
        fut = ex.submit(_turn(user), {"configurable": {"user_id": user}}, after_seconds=0,
                        thread_id=f"swept-{user}")  # fmt: skip
        assert fut.result(timeout=90).created
    wait_until(lambda: _thread_or_none(a, fut.thread_id) is None, 90, 0.5, "the thread swept")
    assert _memories(b, user) == [f"User said: I live in {user}-town-0."]
    assert b.store.search_items(["reflection_receipts", fut.thread_id])["items"] == []


def test_one_claim_per_slot_across_processes(bg):
    """The claim both jobs take before each turn: of 8 concurrent tries, on two processes, one wins."""
    job = f"test-{uuid.uuid4().hex[:6]}"

    async def tries() -> list[bool]:
        clients = [get_client(url=n.url, api_key=ALICE_KEY) for n in bg.nodes]
        try:
            # A long slot, so the eight tries cannot straddle two.
            return await asyncio.gather(*(claim(clients[i % 2], job, 3600.0) for i in range(8)))
        finally:
            for client in clients:
                await client.aclose()

    assert sorted(asyncio.run(tries())) == [False] * 7 + [True]
