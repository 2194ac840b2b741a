"""The async executor without a server: the same behaviour as the sync one, on the event loop."""

import asyncio

import httpx
import pytest

from sdk_client import (
    AsyncReflectionExecutor,
    ExecutorShutdownError,
    InvalidPayloadError,
    NotAcceptedError,
    Stage,
)
from tests.server import free_port
from tests.unit.sdk_client.cases import FAST, MSG, OPTIONS, PAYLOADS, Recorder


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
    server, release = Recorder(), asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()  # hold the first request so later submissions queue up
        return server.answer(request)

    transport = httpx.MockTransport(handler)
    ex = AsyncReflectionExecutor("memory_manager", "memories", transport=transport, **OPTIONS)
    futures = [ex.submit(p, thread_id="t", after_seconds=60) for p in PAYLOADS]
    await asyncio.sleep(0)  # let the sender take the first submission alone
    release.set()
    await ex.wait_accepted(timeout=10)
    await ex.shutdown(wait=True, cancel_futures=True)
    server.check_in_order_and_coalesced(futures)
