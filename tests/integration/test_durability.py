"""Durability starts at acceptance: a caller killed right after it survives as memory."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from langgraph_sdk import get_sync_client

from tests.server import wait_until

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from sdk_client import ReflectionExecutor

    url, user = sys.argv[1], sys.argv[2]
    ex = ReflectionExecutor("memory_manager", ("memories", user), url=url)
    for turn in ["I live in Nairobi.", "I love running."]:
        fut = ex.submit({"messages": [{"role": "user", "content": turn}]},
                        after_seconds=2, thread_id="chat-" + user)
        fut.wait_accepted(timeout=30)
    print(fut.stage.value, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # die before the run is due
    """
)


def run_script(script: str, url: str, user: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a Python process of its own, given the server's url and the user."""
    return subprocess.run(
        [sys.executable, "-c", script, url, user], capture_output=True, text=True, timeout=60
    )


def two_memories(url: str, user: str) -> set[str]:
    """The texts in the user's namespace, once there are two (the scripts' two turns)."""
    with get_sync_client(url=url, api_key=None) as sdk:

        def memories() -> set[str]:
            items = sdk.store.search_items(["memories", user])["items"]
            return {i["value"]["content"]["content"] for i in items}

        return wait_until(lambda: len(memories()) == 2 and memories(), 30, 0.2, "memories")


def test_accepted_submissions_survive_a_killed_caller(server):
    user = f"k-{uuid.uuid4().hex[:6]}"
    proc = run_script(SCRIPT, server.url, user)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "accepted"
    assert two_memories(server.url, user) == {"User lives in Nairobi.", "User likes running."}


ASYNC_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from sdk_client import AsyncReflectionExecutor

    url, user = sys.argv[1], sys.argv[2]

    async def main():
        ex = AsyncReflectionExecutor("memory_manager", ("memories", user), url=url)
        for turn in ["I live in Lima.", "I love rowing."]:
            fut = ex.submit({"messages": [{"role": "user", "content": turn}]},
                            thread_id="chat-" + user)
        print(fut.stage.value, flush=True)  # the loop ends before its senders ran

    asyncio.run(main())
    """
)


def test_async_submissions_left_unsent_by_a_finished_loop_are_sent_at_exit(server):
    """asyncio.run() returned under the sender tasks: the exit hook sends, nothing is named lost."""
    user = f"a-{uuid.uuid4().hex[:6]}"
    proc = run_script(ASYNC_SCRIPT, server.url, user)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "handed_over"
    assert "NOT accepted" not in proc.stderr, proc.stderr
    assert two_memories(server.url, user) == {"User lives in Lima.", "User likes rowing."}
