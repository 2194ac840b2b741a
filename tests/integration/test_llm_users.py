"""Two key holders on the LLM path at once: the shared langmem manager keeps them apart.

Runs share one manager per configuration (``graphs/memory_manager/extractors.py``); the
store and the namespace come from each run. Here alice and bob write the same namespace
name at the same time, and bob also calls the server with a raw SDK request that names
alice's labels in its config: each memory must land in its writer's space only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ReflectionExecutor
from tests.llm_endpoint import ScriptedEndpoint
from tests.server import ALICE_KEY, BOB_KEY, Server, keyed_env, quick_executor, run_server

pytestmark = pytest.mark.integration

NAMESPACE = ("memories", "shared")


@pytest.fixture(scope="module")
def keyed_llm_server(llm: ScriptedEndpoint) -> Iterator[Server]:
    with run_server(keyed_env(**llm.server_env())) as srv:
        yield srv


def executor(server: Server, key: str) -> ReflectionExecutor:
    return quick_executor(server.url, NAMESPACE, api_key=key)


def contents(ex: ReflectionExecutor) -> list[str]:
    return sorted(i["value"]["content"]["content"] for i in ex.search(limit=50))


def everything(server: Server, key: str) -> list[str]:
    """Every memory the key holder can see, in any namespace."""
    client = get_sync_client(url=server.url, api_key=key)
    try:
        items = client.store.search_items(("memories",), limit=100)["items"]
    finally:
        client.http.client.close()
    return sorted(i["value"]["content"]["content"] for i in items)


def test_concurrent_users_and_a_raw_call_write_only_their_own_space(keyed_llm_server):
    with executor(keyed_llm_server, ALICE_KEY) as alice, executor(keyed_llm_server, BOB_KEY) as bob:
        futures = [
            alice.submit({"messages": [{"role": "user", "content": "I live in Porto."}]},
                         thread_id="chat", after_seconds=0),
            bob.submit({"messages": [{"role": "user", "content": "I live in Oslo."}]},
                       thread_id="chat", after_seconds=0),
        ]  # fmt: skip
        for fut in futures:
            fut.result(timeout=120)

        # Not our client: bob's raw run names alice's namespace labels in its config.
        raw = get_sync_client(url=keyed_llm_server.url, api_key=BOB_KEY)
        thread = raw.threads.create()
        labels = {"memory_namespace_0": "memories", "memory_namespace_1": "shared"}
        run = raw.runs.create(
            thread["thread_id"],
            "memory_manager",
            input={"messages": [{"role": "user", "content": "I work at a shipyard."}]},
            config={"configurable": {**labels, "user_id": "alice"}},
        )
        raw.runs.join(thread["thread_id"], run["run_id"])
        assert raw.runs.get(thread["thread_id"], run["run_id"])["status"] == "success"

        raw.http.client.close()

        # The scripted model stores each user turn as "User said: <turn>". The raw run
        # names no namespace of ours, so it writes the graph's default one, in bob's space.
        assert contents(alice) == ["User said: I live in Porto."]
        assert contents(bob) == ["User said: I live in Oslo."]
        assert everything(keyed_llm_server, ALICE_KEY) == ["User said: I live in Porto."]
        assert everything(keyed_llm_server, BOB_KEY) == [
            "User said: I live in Oslo.",
            "User said: I work at a shipyard.",
        ]
