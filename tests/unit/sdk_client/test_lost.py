"""The watcher tells the truth when the server loses accepted work (a dev server killed by SIGKILL)."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest

from sdk_client import (
    AsyncReflectionExecutor,
    ProcessingFailedError,
    ReflectionExecutor,
    RetryPolicy,
    Stage,
    SubmissionLostError,
)

MSG = {"messages": [{"role": "user", "content": "I love tea."}]}


class RestartedServer:
    """Accepts a submission, then answers as a server restarted without it would."""

    def __init__(self, inbox_kept: bool) -> None:
        self.inbox_kept = inbox_kept
        self.entries: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "PUT" and path == "/store/items":
            with self.lock:
                self.entries.append(json.loads(request.content)["value"])
            return httpx.Response(204)
        if method == "POST" and path.endswith("/runs"):
            return httpx.Response(200, json={"run_id": "run-1", "status": "pending"})
        if method == "POST" and path == "/store/items/search":
            ns = json.loads(request.content)["namespace_prefix"]
            with self.lock:
                inbox = self.inbox_kept and ns[0] == "reflection_inbox"
                items = (
                    [{"key": "k", "namespace": ns, "value": e} for e in self.entries]
                    if inbox
                    else []
                )
            return httpx.Response(200, json={"items": items})
        if method == "GET" and "/runs" in path:  # the run, and the thread's runs: gone
            return httpx.Response(404, json={"detail": "not found"})
        return httpx.Response(204)


@pytest.mark.parametrize("inbox_kept", [False, True])
def test_a_run_gone_with_its_inbox_entry_fails_the_future(inbox_kept):
    server = RestartedServer(inbox_kept)
    with ReflectionExecutor(
        "memory_manager", "memories", url="http://test", transport=httpx.MockTransport(server),
        retry=RetryPolicy(max_attempts=1), poll_interval=0.05, api_key=None,
    ) as ex:  # fmt: skip
        fut = ex.submit(MSG, thread_id="t")
        fut.wait_accepted(timeout=10)
        if inbox_kept:
            # Still held on the server: not lost, and never reported processed either.
            with pytest.raises(TimeoutError):
                fut.result(timeout=1)
            assert fut.stage is Stage.ACCEPTED
            return
        with pytest.raises(SubmissionLostError) as info:
            fut.result(timeout=10)
    assert info.value.run_id == "run-1" and info.value.submission_id == fut.submission_id
    assert fut.stage is Stage.FAILED and fut.accepted


class FailedRunServer(RestartedServer):
    """Accepts a submission; its run then ends in error (the inbox keeps the entry)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "/runs/" in request.url.path:
            return httpx.Response(200, json={"run_id": "run-1", "status": "error"})
        return super().__call__(request)


@pytest.mark.parametrize(
    ("server", "error"),
    [
        (RestartedServer(inbox_kept=False), SubmissionLostError),
        (FailedRunServer(True), ProcessingFailedError),
    ],
    ids=["lost", "failed"],
)
async def test_the_async_executor_fails_lost_and_failed_runs(server, error):
    async with AsyncReflectionExecutor(
        "memory_manager", "memories", url="http://test", transport=httpx.MockTransport(server),
        retry=RetryPolicy(max_attempts=1), poll_interval=0.05, api_key=None,
    ) as ex:  # fmt: skip
        fut = ex.submit(MSG, thread_id="t")
        await fut.wait_accepted_async(timeout=10)
        done, _ = await asyncio.wait([asyncio.wrap_future(fut)], timeout=10)
    assert done, "the async executor never resolved the Future"
    assert type(fut.exception(timeout=0)) is error
    assert fut.exception(timeout=0).run_id == "run-1"
    assert fut.stage is Stage.FAILED and fut.accepted
