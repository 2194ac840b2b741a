"""Per-user isolation on a real server with API keys: every route, tried as the other user."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from sdk_client import ReflectionExecutor
from sdk_client.cli import EXIT_CODES, cli
from tests.server import ALICE_KEY as ALICE
from tests.server import BOB_KEY as BOB
from tests.server import Server, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def alice_thread(keyed_server: Server) -> dict[str, Any]:
    """Alice's processed thread plus one pending run on another thread of hers."""
    ns = ("memories", "alice")
    with ReflectionExecutor("memory_manager", ns, url=keyed_server.url, api_key=ALICE) as ex:
        done = ex.submit({"messages": [{"role": "user", "content": "I live in Porto."}]},
                         after_seconds=0, thread_id=f"alice-{uuid.uuid4().hex[:6]}")  # fmt: skip
        done.result(timeout=60)
        pending = ex.submit({"messages": [{"role": "user", "content": "I like tea."}]},
                            after_seconds=600, thread_id=f"alice-{uuid.uuid4().hex[:6]}")  # fmt: skip
        pending.wait_accepted(timeout=30)
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as sdk:
        run_id = sdk.runs.list(pending.thread_id, status="pending")[0]["run_id"]
    return {"done": done.thread_id, "pending": pending.thread_id, "pending_run": run_id}


def _alice_memories(url: str) -> list[str]:
    with get_sync_client(url=url, api_key=ALICE) as sdk:
        items = sdk.store.search_items(["memories", "alice"])["items"]
    return sorted(i["value"]["content"]["content"] for i in items)


def test_requests_without_a_valid_key_are_refused(keyed_server):
    for headers in ({}, {"x-api-key": "not-a-key-but-long-enough"}, {"authorization": "Bearer x"}):
        r = httpx.post(f"{keyed_server.url}/threads/search", json={}, headers=headers)
        assert r.status_code == 401, (headers, r.text)
    ok = httpx.post(
        f"{keyed_server.url}/threads/search", json={}, headers={"authorization": f"Bearer {ALICE}"}
    )
    assert ok.status_code == 200


def test_alice_sees_her_own_work(keyed_server, alice_thread):
    assert _alice_memories(keyed_server.url) == ["User lives in Porto."]
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as sdk:
        assert sdk.threads.get(alice_thread["done"])["metadata"]["owner"] == "alice"
        assert sdk.store.search_items(["reflection_inbox", alice_thread["done"]])["items"] == []


def test_bob_cannot_touch_alices_threads_or_runs(keyed_server, alice_thread):
    done, pending, run_id = (
        alice_thread["done"],
        alice_thread["pending"],
        alice_thread["pending_run"],
    )
    payload = {"messages": [{"role": "user", "content": "I live in Mars."}]}
    attempts: dict[str, Callable[[Any], Any]] = {
        "read thread": lambda s: s.threads.get(done),
        "read state": lambda s: s.threads.get_state(done),
        "read history": lambda s: s.threads.get_history(done),
        "update thread": lambda s: s.threads.update(done, metadata={"owner": "bob"}),
        "delete thread": lambda s: s.threads.delete(done),
        "list runs": lambda s: s.runs.list(pending),
        "read run": lambda s: s.runs.get(pending, run_id),
        "cancel run": lambda s: s.runs.cancel(pending, run_id),
        "supersede run": lambda s: s.runs.create(
            pending, "memory_manager", input=payload, multitask_strategy="rollback"
        ),
    }
    with get_sync_client(url=keyed_server.url, api_key=BOB) as bob:
        for what, attempt in attempts.items():
            with pytest.raises(NotFoundError):
                attempt(bob)
                pytest.fail(f"bob could {what}")
        assert not any(t["thread_id"] in (done, pending) for t in bob.threads.search(limit=100))
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as sdk:
        assert sdk.runs.get(pending, run_id)["status"] == "pending"  # still hers, not superseded
        assert sdk.threads.get(done)["metadata"]["owner"] == "alice"


def test_bob_cannot_read_or_write_alices_memories(keyed_server, alice_thread):
    with get_sync_client(url=keyed_server.url, api_key=BOB) as bob:
        assert bob.store.search_items(["memories", "alice"])["items"] == []
        # Whatever bob holds (test_security.py writes there too) is in his own prefix.
        for ns in ([], ["alice"], ["alice", "memories", "alice"]):
            assert "Porto" not in str(bob.store.search_items(ns, limit=100)["items"])
        assert all(
            ns[0] != "alice" or len(ns) > 3 for ns in bob.store.list_namespaces()["namespaces"]
        )
        key = _alice_memory_key(keyed_server.url)
        assert bob.store.get_item(["memories", "alice"], key) is None
        bob.store.delete_item(["memories", "alice"], key)  # deletes in bob's space: a no-op
        bob.store.put_item(["memories", "alice"], "forged", {"content": "I live on Mars."})
        # A run of bob's aimed at alice's namespace writes into bob's own space.
        with ReflectionExecutor(
            "memory_manager", ("memories", "alice"), url=keyed_server.url, api_key=BOB
        ) as ex:
            fut = ex.submit({"messages": [{"role": "user", "content": "I live in Mars."}]},
                            after_seconds=0, thread_id=f"bob-{uuid.uuid4().hex[:6]}")  # fmt: skip
            fut.result(timeout=60)
            bobs = sorted(str(i["value"]) for i in ex.search())
    assert _alice_memories(keyed_server.url) == ["User lives in Porto."]
    assert len(bobs) == 2  # the forged item and bob's own extracted memory


def _alice_memory_key(url: str) -> str:
    with get_sync_client(url=url, api_key=ALICE) as sdk:
        return str(sdk.store.search_items(["memories", "alice"])["items"][0]["key"])


def test_alice_cancels_her_pending_run(keyed_server, alice_thread):
    with ReflectionExecutor(
        "memory_manager", ("memories", "alice"), url=keyed_server.url, api_key=ALICE
    ) as ex:
        ex.cancel(alice_thread["pending"])
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as sdk:
        assert sdk.runs.list(alice_thread["pending"], status="pending") == []


def test_cli_without_a_key_is_refused_with_a_hint(keyed_server):
    res = CliRunner().invoke(cli, ["--url", keyed_server.url, "status", "-t", "x"])
    assert res.exit_code == EXIT_CODES["refused"], res.output
    assert "401" in res.output and "--api-key" in res.output


def test_cli_with_keys_sees_only_its_own_memories(keyed_server, monkeypatch):
    ns = f"memories/cli-{uuid.uuid4().hex[:8]}"
    runner = CliRunner()
    monkeypatch.setenv("LANGGRAPH_API_KEY", ALICE)  # the env var the CLI reads, like the SDK
    res = runner.invoke(
        cli,
        ["--url", keyed_server.url, "submit", "-t", f"alice-{ns}", "-n", ns, "--wait", "processed"],
        input='[{"role": "user", "content": "I live in Rome."}]',
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--url", keyed_server.url, "memories", "list", "-n", ns])
    assert "User lives in Rome." in res.output
    res = runner.invoke(
        cli, ["--url", keyed_server.url, "--api-key", BOB, "memories", "list", "-n", ns]
    )
    assert res.exit_code == 0 and "0 memories in" in res.output


def test_capture_writes_into_the_callers_own_inbox(keyed_server):
    """Server-side capture on a keyed server: the entry is in alice's prefix, then acknowledged."""
    thread = str(uuid.uuid4())
    user = f"cap-{uuid.uuid4().hex[:6]}"
    turns = ["I live in Oslo.", "I work at a library.", "My name is Ada."]
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as alice:
        for turn in turns:
            alice.runs.create(thread, "memory_manager", if_not_exists="create",
                              input={"messages": [{"role": "user", "content": turn}]},
                              multitask_strategy="rollback", after_seconds=2,
                              context={"namespace": ["memories", user]})  # fmt: skip
        inbox = alice.store.search_items(["reflection_inbox", thread])["items"]
        assert len(inbox) == 3 and {i["namespace"][0] for i in inbox} == {"alice"}

        def processed() -> bool:
            return len(alice.store.search_items(["memories", user])["items"]) == 3

        wait_until(processed, 60, 0.2, "all three turns")
        # commit deletes the inbox entries after writing the memories
        wait_until(lambda: not alice.store.search_items(["reflection_inbox", thread])["items"],
                   30, 0.2, "the inbox to be acknowledged")  # fmt: skip
    with get_sync_client(url=keyed_server.url, api_key=BOB) as bob:
        assert bob.store.search_items(["reflection_inbox"], limit=100)["items"] == []


def test_redelivery_runs_as_the_owner_of_the_stranded_work(keyed_server):
    """A turn whose run was never created, in alice's inbox: the server's run acts as alice."""
    user = f"orphan-{uuid.uuid4().hex[:6]}"
    thread = str(uuid.uuid4())
    sid = str(uuid.uuid4())
    entry = {"namespace": ["memories", user], "submissions": [{
        "submission_id": sid, "submitted_at": time.time(), "after_seconds": 0,
        "messages": [{"id": sid, "role": "user", "content": "I live in Turku."}]}]}  # fmt: skip
    with get_sync_client(url=keyed_server.url, api_key=ALICE) as alice:
        alice.store.put_item(["reflection_inbox", thread], sid, entry, index=False)

        def processed() -> bool:
            return bool(alice.store.search_items(["memories", user])["items"])

        # The default schedule: 30 s of grace past due, then the next scan (every 5 s).
        wait_until(processed, 90, 0.5, "the server to run alice's stranded turn")
        assert alice.threads.get(thread)["metadata"]["owner"] == "alice"
        wait_until(lambda: not alice.store.search_items(["reflection_inbox", thread])["items"],
                   30, 0.2, "the inbox to be acknowledged")  # fmt: skip
    with get_sync_client(url=keyed_server.url, api_key=BOB) as bob:
        assert bob.store.search_items(["memories", user])["items"] == []
