"""The async executor without a server: the same behaviour as the sync one, on the event loop."""

import asyncio
import json

import httpx
import pytest

from sdk_client import (
    AsyncReflectionExecutor,
    ExecutorShutdownError,
    InvalidPayloadError,
    NotAcceptedError,
    RetryPolicy,
    Stage,
)
from tests.server import free_port

FAST = RetryPolicy(max_attempts=2, initial_delay=0, jitter=0)
MSG = {"messages": [{"role": "user", "content": "I love tea."}]}


def test_submit_needs_a_running_loop():
    ex = AsyncReflectionExecutor("memory_manager", "memories", url="http://test")
    with pytest.raises(RuntimeError, match="running event loop"):
        ex.submit(MSG, thread_id="t")


async def test_bad_payload_raises_before_anything_is_queued():
    async with AsyncReflectionExecutor("memory_manager", "memories", url="http://test") as ex:
        with pytest.raises(InvalidPayloadError, match="payload.messages"):
            ex.submit({"messages": []}, thread_id="t")
        with pytest.raises(InvalidPayloadError, match="thread_id"):
            ex.submit(MSG)


async def test_server_down_is_a_visible_not_accepted_error():
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncReflectionExecutor(
        "memory_manager", "memories", url=url, retry=FAST, api_key=None
    ) as ex:
        fut = ex.submit(MSG, thread_id="t")
        with pytest.raises(NotAcceptedError) as info:
            await fut.wait_accepted_async(timeout=30)
        assert url in str(info.value) and "langgraph dev" in str(info.value)
        with pytest.raises(NotAcceptedError):
            await fut
        assert fut.stage is Stage.FAILED
    with pytest.raises(ExecutorShutdownError):
        ex.submit(MSG, thread_id="t")


async def test_a_threads_submissions_reach_the_server_in_order_and_coalesce():
    sent: list[tuple[str, str, dict]] = []
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()  # hold the first request so later submissions queue up
        body = json.loads(request.content or b"{}")
        sent.append((request.method, request.url.path, body))
        if request.url.path.endswith("/runs"):
            return httpx.Response(200, json={"run_id": f"run-{len(sent)}", "status": "pending"})
        return httpx.Response(204)

    ex = AsyncReflectionExecutor(
        "memory_manager",
        "memories",
        url="http://test",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        sender_threads=1,
    )
    futures = [
        ex.submit(
            {"messages": [{"role": "user", "content": f"turn {i}"}]},
            thread_id="t",
            after_seconds=60,
        )
        for i in range(10)
    ]
    await asyncio.sleep(0)  # let the sender take the first submission alone
    release.set()
    await ex.wait_accepted(timeout=10)
    await ex.shutdown(wait=True, cancel_futures=True)

    puts = [b for m, p, b in sent if m == "PUT"]
    order = [s["messages"][0]["content"] for b in puts for s in b["value"]["submissions"]]
    assert order == [f"turn {i}" for i in range(10)]
    assert len(puts) < 10, "queued submissions coalesce into fewer requests"
    runs = [b for m, p, b in sent if p.endswith("/runs")]
    assert runs[-1]["input"]["messages"][0]["content"] == "turn 9"
    assert runs[-1]["multitask_strategy"] == "rollback"
    assert all(f.stage is Stage.ACCEPTED for f in futures)
