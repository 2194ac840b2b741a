"""The product's promises on two server processes sharing one Postgres and one Redis.

Runtime: langgraph-api 0.11.1 on the MIT ``langgraph-runtime-pg`` (``deploy/local_cluster.py``).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

import httpx
import pytest
from langgraph_sdk import get_sync_client

from deploy.local_cluster import Cluster
from tests.burst import Burst, assert_only_the_last_run
from tests.llm_endpoint import ScriptedEndpoint, user_turns
from tests.server import ALICE_KEY, stored, submit_turn, wait_until

pytestmark = pytest.mark.scaleout

TURNS = [
    "I live in Porto.",
    "I love sardines.",
    "I work at a shipyard.",
    "My cat is Bo.",
    "I hate fog.",
]


def said(turns: list[str]) -> list[str]:
    return sorted(f"User said: {t}" for t in turns)


def test_burst_through_alternating_processes_is_one_run(cluster: Cluster, executors, llm):
    a, b = executors
    user = f"alt-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    # A burst on an idle thread: nothing holds its run, so the premise of one run (each turn
    # accepted before the previous one's run is due) is timed (tests/burst.py).
    timing, config = Burst(2.0), {"configurable": {"user_id": user}}
    futures = [
        timing.submit((a, b)[i % 2], turn, f"chat-{user}", config) for i, turn in enumerate(TURNS)
    ]
    run_ids = [f.run_id for f in futures]
    assert len(set(run_ids)) == len(TURNS), "each submission created its own run"
    a.flush(timeout=120)
    b.flush(timeout=120)

    with timing.outcome():
        assert {f.result().run_id for f in futures} == {run_ids[-1]}
        assert llm.calls - before == 1, "one model call for the whole burst"
    assert user_turns(llm.requests[-1]) == TURNS
    assert stored(a, user) == said(TURNS)
    thread = futures[0].thread_id
    with get_sync_client(url=cluster.nodes[1].url, api_key=ALICE_KEY) as sdk:
        assert_only_the_last_run(sdk, thread, run_ids)


def test_started_run_rolled_back_keeps_checkpoints_and_gives_the_same_memories(
    cluster: Cluster, executors, llm: ScriptedEndpoint
):
    """On this runtime the rolled-back run's checkpoints stay; memories are as on `langgraph dev`.

    The dev-server counterpart, with the same memories (``langgraph dev`` deletes the
    rolled-back run's checkpoints, deploy/README.md), is
    ``tests/integration/test_llm_extraction.py::test_a_running_run_superseded_by_another_client_loses_nothing``.
    """
    a, b = executors
    user = f"rb-{uuid.uuid4().hex[:6]}"
    before = llm.calls
    llm.gate.clear()  # the first run stays busy in `extract`, after `gather` checkpointed
    try:
        first = submit_turn(a, user, "I live in Tromsø.", after=0)
        llm.wait_calls(before + 1, timeout=60)
        second = submit_turn(b, user, "I love auroras.", after=0.5)  # rolls back the running run
    finally:
        llm.gate.set()
    b.flush(timeout=120)
    a.flush(timeout=120)

    assert first.result().run_id == second.result().run_id == second.run_id
    assert user_turns(llm.requests[-1]) == ["I live in Tromsø.", "I love auroras."]
    expected = said(["I live in Tromsø.", "I love auroras."])
    assert stored(a, user) == expected

    with get_sync_client(url=cluster.nodes[0].url, api_key=ALICE_KEY) as sdk:
        history = sdk.threads.get_history(first.thread_id, limit=100)
        run_ids = {c["metadata"].get("run_id") for c in history}
        assert first.run_id in run_ids, "this runtime keeps a started run's checkpoints"
        # The full history resent (memory-template style) is recognised by message id.
        again = a.submit(
            {
                "messages": [
                    {"role": "user", "content": t} for t in ("I live in Tromsø.", "I love auroras.")
                ]
            },
            {"configurable": {"user_id": user}},
            after_seconds=0,
            thread_id=first.thread_id,
        )
        assert again.result(timeout=120).created == []
    assert stored(a, user) == expected


def test_sigkill_of_a_process_with_pending_and_running_work_loses_nothing(
    cluster: Cluster, executors, llm: ScriptedEndpoint
):
    a, b = executors
    tag = uuid.uuid4().hex[:6]
    running = [f"run{i}-{tag}" for i in range(4)]
    pending = [f"pend{i}-{tag}" for i in range(4)]
    turns = {
        u: [f"I live in Town{i}.", f"I love thing{i}."] for i, u in enumerate(running + pending)
    }
    before = llm.calls
    llm.gate.clear()  # runs that start now hold in `extract`, mid model call
    try:
        cluster.pause(0)  # so B is the process that takes the running work
        try:
            for user in running:
                for turn in turns[user]:
                    submit_turn(b, user, turn, after=0)
            llm.wait_calls(before + len(running), timeout=60)
        finally:
            cluster.resume(0)
        for i, user in enumerate(pending):
            for turn in turns[user]:
                submit_turn((a, b)[i % 2], user, turn, after=4.0)
        cluster.kill(1)  # SIGKILL B's process group: its runs die mid model call
    finally:
        llm.gate.set()
    b.shutdown(wait=False, cancel_futures=True)  # B's client has no server any more

    def all_stored() -> bool:
        return all(stored(a, u) == said(turns[u]) for u in running + pending)

    # A killed process's runs are re-queued once their heartbeat is stale (LG_BG_JOB_HEARTBEAT).
    wait_until(all_stored, 180, 1.0, "every turn in memory")
    assert llm.calls - before >= 2 * len(running) + len(pending), "B's runs were redone on A"
    for user in running + pending:
        contents = stored(a, user)
        assert not [c for c, n in Counter(contents).items() if n > 1], f"duplicates for {user}"
        assert a.status(f"chat-{user}").inbox == 0
    cluster.restart(1)


def test_http_settings_of_langgraph_json_hold_on_this_runtime(cluster: Cluster):
    """What ``runtime_config`` keeps of ``http``: MCP and A2A off, CORS for Studio only.

    ``tests/unit/deploy/test_local_cluster.py`` checks the derived file; this checks that
    the pinned runtime honours it (``tests/integration/test_security.py`` does the same
    on ``langgraph dev``).
    """
    studio = "https://smith.langchain.com"
    headers = {"x-api-key": ALICE_KEY}
    with httpx.Client(base_url=cluster.nodes[0].url, timeout=30, headers=headers) as http:
        found = http.post("/assistants/search", json={"graph_id": "memory_manager"}).json()
        assistant = found[0]["assistant_id"]
        assert http.get("/mcp/").status_code == 404
        assert http.post("/mcp/", json={}).status_code == 404
        assert http.post(f"/a2a/{assistant}", json={}).status_code == 404
        preflight = {"access-control-request-method": "POST"}
        allowed = http.options("/threads/search", headers={"origin": studio, **preflight})
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == studio
        other = http.options(
            "/threads/search", headers={"origin": "https://a.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers, other.headers


def test_langmems_unchanged_executor_through_both_processes_keeps_every_turn(
    cluster: Cluster, llm: ScriptedEndpoint, monkeypatch: pytest.MonkeyPatch
):
    """langmem's own executor, its turns alternating between the processes: capture on each
    process puts every superseded turn in the inbox, so the run left processes all five."""
    from langmem import ReflectionExecutor as LangmemExecutor

    monkeypatch.setenv("LANGGRAPH_API_KEY", ALICE_KEY)  # langmem has no key argument
    ns = ("memories", f"lm-{uuid.uuid4().hex[:6]}")
    thread = str(uuid.uuid4())
    executors = [LangmemExecutor("memory_manager", ns, url=n.url) for n in cluster.nodes[:2]]
    before = llm.calls
    try:
        for i, turn in enumerate(TURNS):
            executors[i % 2].submit(
                {"messages": [{"role": "user", "content": turn}]},
                config={"configurable": {"thread_id": thread}},
                after_seconds=3,
            ).result(timeout=30)
        with get_sync_client(url=cluster.nodes[1].url, api_key=ALICE_KEY) as sdk:

            def kept() -> list[str]:
                items = sdk.store.search_items(list(ns), limit=50)["items"]
                return sorted(i["value"]["content"]["content"] for i in items)

            found = wait_until(lambda: kept() == said(TURNS) and kept(), 90, 0.5, "every turn")
            wait_until(lambda: sdk.threads.get(thread)["status"] == "idle", 30, 0.2, "run end")
            assert [r["status"] for r in sdk.runs.list(thread)] == ["success"]
            assert sdk.store.search_items(["reflection_inbox", thread])["items"] == []
    finally:
        for ex in executors:
            ex.shutdown()
            ex._client.http.client.close()  # langmem never closes the client it built
    assert found == said(TURNS)
    assert llm.calls - before == 1 and user_turns(llm.requests[-1]) == TURNS


def test_search_is_ranked_by_meaning_on_either_process(executors):
    """The vector index on this runtime: a question finds the memory that answers it first."""
    a, b = executors
    user = f"rank-{uuid.uuid4().hex[:6]}"
    facts = ["I live in Porto.", "I love sardines.", "I work at a shipyard.", "My cat is Bo."]
    for i, turn in enumerate(facts):
        submit_turn(a, user, turn, after=0, thread=f"rank-{user}-{i}")
    a.flush(timeout=120)
    wait_until(lambda: len(stored(a, user)) == len(facts), 60, 0.2, "four memories")
    for ex in (a, b):
        hits = ex.search(namespace=("memories", user), query="what food does the user like")
        assert hits[0]["value"]["content"]["content"] == "User said: I love sardines."
        assert all(h.get("score") is not None for h in hits), "ranked, not listed"
        pet = ex.search(namespace=("memories", user), query="the user's pet animal")
        assert pet[0]["value"]["content"]["content"] == "User said: My cat is Bo."


def test_the_inspector_on_either_process_shows_the_same_threads(cluster: Cluster, executors):
    a, _b = executors
    user = f"insp-{uuid.uuid4().hex[:6]}"
    fut = submit_turn(a, user, "I live in Porto.", after=0)
    fut.result(timeout=90)
    seen = []
    for node in cluster.nodes[:2]:
        with httpx.Client(base_url=node.url, headers={"x-api-key": ALICE_KEY}, timeout=30) as http:
            assert "<title>" in http.get("/inspector/").text
            assert http.get("/inspector/static/inspector.js").status_code == 200
            assert http.get("/inspector/api/whoami").json()["prefix"] == ["alice"]
            resolved = http.get("/inspector/api/resolve", params={"thread_id": f"chat-{user}"})
            assert resolved.json()["thread_id"] == fut.thread_id
            threads = http.post(
                "/threads/search",
                json={"metadata": {"graph_id": "memory_manager"}, "limit": 1000},
            ).json()
            seen.append(sorted(t["thread_id"] for t in threads))
    assert seen[0] == seen[1] and fut.thread_id in seen[0]


def test_memory_quality_is_the_same_as_on_langgraph_dev(cluster: Cluster):
    """``bench.quality`` on this cluster (offline extractor, keys, pgvector) against the
    figures of its last ``langgraph dev`` run (``bench/results/quality.json``), user by user."""
    from bench.quality import DATA, RESULTS, evaluate

    dev = json.loads((RESULTS / "quality.json").read_text())["rows"][0]
    assert dev["variant"] == "semantic index (MiniLM)"
    data = json.loads(DATA.read_text())
    url = cluster.nodes[1].url
    with get_sync_client(url=url, api_key=ALICE_KEY) as sdk:  # this cluster's default is a model
        offline = sdk.assistants.create("memory_manager", context={"model": ""}, name="offline")
    row = evaluate(url, data, "cluster", api_key=ALICE_KEY, assistant=offline["assistant_id"])
    figures = ("memories", "duplicates", "kept", "hit5", "hit1", "resolved", "stored")
    for ours, theirs in zip(row["users"], dev["users"], strict=True):
        assert {k: ours[k] for k in figures} == {k: theirs[k] for k in figures}, ours["user"]
