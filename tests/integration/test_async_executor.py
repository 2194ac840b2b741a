"""The async executor on a real `langgraph dev`: a burst is one run and keeps every turn."""

from __future__ import annotations

import uuid

import pytest
from langgraph_sdk import get_client

from sdk_client import AsyncReflectionExecutor, Stage, SubmissionCancelledError
from tests.burst import Burst
from tests.integration.test_core import EXPECTED, TURNS, contents
from tests.server import QUICK, USER_MEMORIES

pytestmark = pytest.mark.integration


def executor(server) -> AsyncReflectionExecutor:
    return AsyncReflectionExecutor("memory_manager", USER_MEMORIES, url=server.url, **QUICK)


async def test_async_burst_is_one_run_and_keeps_every_turn(server):
    # The premise of one run is timed, as in test_core.py (tests/burst.py).
    user = f"a-{uuid.uuid4().hex[:8]}"
    timing = Burst(3.0)
    async with executor(server) as ex:
        futures = []
        for turn in TURNS:
            with timing.submission():
                fut = ex.submit(
                    {"messages": [{"role": "user", "content": turn}]},
                    {"configurable": {"user_id": user}},
                    after_seconds=3.0,
                    thread_id=f"chat-{user}",
                )
                await fut.wait_accepted_async(timeout=30)
            assert fut.stage is Stage.ACCEPTED
            futures.append(fut)
        run_ids = [f.run_id for f in futures]
        assert len(set(run_ids)) == len(TURNS), "each accepted submission created its own run"
        status = await ex.status(f"chat-{user}")
        with timing.outcome():
            assert (status.state, status.run_id, status.inbox) == (
                "pending",
                run_ids[-1],
                len(TURNS),
            )

        await ex.flush(timeout=60)
        results = [await f for f in futures]
        with timing.outcome():
            assert {r.run_id for r in results} == {run_ids[-1]}
        assert contents(await ex.search(namespace=("memories", user))) == EXPECTED
        assert (await ex.status(f"chat-{user}")).state == "idle"

    thread = futures[0].thread_id
    client = get_client(url=server.url, api_key=None)
    try:
        runs = await client.runs.list(thread, limit=50)
        assert [(r["run_id"], r["status"]) for r in runs] == [(run_ids[-1], "success")]
        state = (await client.threads.get_state(thread))["values"]
        assert [m["content"] for m in state["processed"]] == TURNS
    finally:
        await client.aclose()


async def test_async_cancel_and_wait_accepted(server):
    user = f"ac-{uuid.uuid4().hex[:6]}"
    async with executor(server) as ex:
        futures = [
            ex.submit(
                {"messages": [{"role": "user", "content": turn}]},
                {"configurable": {"user_id": user}},
                after_seconds=60,
                thread_id=f"chat-{user}",
            )
            for turn in ["I love tea.", "I love jazz."]
        ]
        await ex.wait_accepted(timeout=30)
        assert all(f.accepted for f in futures)
        assert await ex.cancel(f"chat-{user}") == 2
        for fut in futures:
            with pytest.raises(SubmissionCancelledError):
                await fut
        assert (await ex.status(f"chat-{user}")).inbox == 0
        assert await ex.search(namespace=("memories", user)) == []
        assert await ex.cancel(f"never-used-{user}") == 0
