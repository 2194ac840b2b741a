"""Server-side capture on a real `langgraph dev`: no client has to write the inbox."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import ConflictError, UnprocessableEntityError

from sdk_client import ReflectionExecutor
from tests.integration.test_core import EXPECTED, TURNS, contents
from tests.server import message, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def sdk(server):
    with get_sync_client(url=server.url, api_key=None) as client:
        yield client


def test_langmems_own_executor_loses_no_turn(server, sdk):
    """langmem's unchanged RemoteReflectionExecutor: rollback no longer takes turns with it."""
    from langmem import ReflectionExecutor as LangmemExecutor

    ns = ("memories", f"lm-{uuid.uuid4().hex[:6]}")
    lm = LangmemExecutor("memory_manager", ns, url=server.url)
    thread = str(uuid.uuid4())
    try:
        for turn in TURNS:
            lm.submit(message(turn), config={"configurable": {"thread_id": thread}},
                      after_seconds=3).result(timeout=30)  # fmt: skip
        found = wait_until(
            lambda: (c := contents(sdk.store.search_items(list(ns))["items"])) == EXPECTED and c,
            60,
            what="every turn's memory",
        )
    finally:
        lm.shutdown()
        lm._client.http.client.close()  # langmem never closes the client it built
    assert found == EXPECTED
    # The others were rolled back; the one left commits its writes before it ends.
    statuses = wait_until(
        lambda: (s := [r["status"] for r in sdk.runs.list(thread)]) != ["running"] and s,
        30, what="the run to end",
    )  # fmt: skip
    assert statuses == ["success"]
    assert sdk.store.search_items(["reflection_inbox", thread])["items"] == []


def test_plain_sdk_runs_are_captured_and_acknowledged(server, sdk):
    user = f"sdk-{uuid.uuid4().hex[:6]}"
    thread = str(uuid.uuid4())
    for turn in TURNS[:3]:
        sdk.runs.create(thread, "memory_manager", input=message(turn), if_not_exists="create",
                        multitask_strategy="rollback", after_seconds=3,
                        context={"namespace": ["memories", user]})  # fmt: skip
    inbox = sdk.store.search_items(["reflection_inbox", thread])["items"]
    assert len(inbox) == 3
    assert {tuple(i["value"]["namespace"]) for i in inbox} == {("memories", user)}
    wait_until(
        lambda: len(sdk.store.search_items(["memories", user])["items"]) == 3, 60, what="memories"
    )
    # commit writes the memories first, its state when it ends: wait for the run to end.
    wait_until(lambda: sdk.threads.get(thread)["status"] == "idle", 30, what="the run to end")
    state = sdk.threads.get_state(thread)["values"]
    assert len(state["submissions"]) == 3 and state["skipped_message_ids"] == []
    assert sdk.store.search_items(["reflection_inbox", thread])["items"] == []


def test_a_run_the_server_refuses_leaves_no_entry(server, sdk):
    thread = str(uuid.uuid4())
    sdk.runs.create(thread, "memory_manager", input=message("I like tea."),
                    if_not_exists="create", after_seconds=600)  # fmt: skip
    with pytest.raises(ConflictError):
        sdk.runs.create(thread, "memory_manager", input=message("I like coffee."),
                        multitask_strategy="reject")  # fmt: skip
    inbox = sdk.store.search_items(["reflection_inbox", thread])["items"]
    assert [i["value"]["submissions"][0]["messages"][0]["content"] for i in inbox] == [
        "I like tea."
    ]
    for run in sdk.runs.list(thread):
        sdk.runs.cancel(thread, run["run_id"], action="rollback")


def test_bad_input_is_refused_when_the_run_is_created(server, sdk):
    thread = str(uuid.uuid4())
    with pytest.raises(UnprocessableEntityError, match=r"input\.messages\[0\]\.role"):
        sdk.runs.create(thread, "memory_manager", if_not_exists="create",
                        input={"messages": [{"role": "robot", "content": "x"}]})  # fmt: skip
    assert sdk.store.search_items(["reflection_inbox", thread])["items"] == []


class _HoldsFirstRun(httpx.HTTPTransport):
    """Holds the first run creation for a second, so later submissions queue and coalesce."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.held and request.method == "POST" and request.url.path.endswith("/runs"):
            self.held = True
            time.sleep(1.0)
        return super().handle_request(request)


def test_a_coalesced_group_is_one_inbox_entry(server, sdk):
    """The client writes a coalesced group's entry under the id its run carries, so capture
    finds it and writes none of its own: one entry per request, each submission in one."""
    user = f"co-{uuid.uuid4().hex[:6]}"
    ex = ReflectionExecutor("memory_manager", ("memories", user), url=server.url,
                            transport=_HoldsFirstRun())  # fmt: skip
    try:
        futures = [ex.submit(message(t), after_seconds=600, thread_id=f"co-{user}")
                   for t in TURNS[:3]]  # fmt: skip
        for fut in futures:
            fut.wait_accepted(timeout=30)
        entries = sdk.store.search_items(["reflection_inbox", futures[0].thread_id])["items"]
        groups = [[s["submission_id"] for s in e["value"]["submissions"]] for e in entries]
        assert max(map(len, groups)) > 1, "a group was coalesced"
        ids = [sid for group in groups for sid in group]
        assert sorted(ids) == sorted(f.submission_id for f in futures), "each in one entry"
        assert len(entries) == len({f.run_id for f in futures}), "one entry per request"
    finally:
        ex.cancel(futures[0].thread_id)
        ex.shutdown(wait=False, cancel_futures=True)
