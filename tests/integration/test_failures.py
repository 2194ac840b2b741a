"""With redelivery off, a run that fails is reported on the Future; its submissions wait."""

from __future__ import annotations

import uuid

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ProcessingFailedError, ReflectionExecutor, Stage
from tests.server import run_server

pytestmark = pytest.mark.integration


def test_failed_run_is_visible_and_the_inbox_keeps_the_turns():
    # A misconfigured server: every run fails at its start, naming the variable. With the
    # server's redelivery off, the first failure is the Future's (test_redelivery.py: on).
    env = {"MEMORY_QUERY_LIMIT": "lots", "MEMORY_MODEL": None, "MEMORY_REDELIVERY_ATTEMPTS": "0"}
    with (
        run_server(env) as server,
        ReflectionExecutor("memory_manager", "memories", url=server.url, poll_interval=0.2) as ex,
        get_sync_client(url=server.url, api_key=None) as sdk,
    ):
        thread = f"fail-{uuid.uuid4().hex[:6]}"
        fut = ex.submit(
            {"messages": [{"role": "user", "content": "I love tea."}]}, thread_id=thread
        )
        with pytest.raises(ProcessingFailedError) as info:
            fut.result(timeout=60)
        assert fut.stage is Stage.FAILED
        assert fut.accepted and fut.run_id == info.value.run_id  # held, then failed
        run = sdk.runs.get(fut.thread_id, info.value.run_id)
        assert run["status"] == "error"
        joined = sdk.runs.join(fut.thread_id, info.value.run_id)
        assert "MEMORY_QUERY_LIMIT='lots'" in joined["__error__"]["message"]
        assert ex.status(thread).inbox == 1
