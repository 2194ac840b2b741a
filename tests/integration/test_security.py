"""Per-user isolation, tried as an attacker would: every REST route of a keyed server.

One real ``langgraph dev`` with two keys. Alice builds a world (a processed
thread with a memory, a pending run, an assistant, a cron, store items); then
every route in the server's own OpenAPI document is called with her ids by
each attacker: anonymous, with Studio's header (which ``langgraph dev`` used to
trust), with a wrong key, and as bob with his own valid key. Each call must
get the refusal listed for it, no answer may contain anything of alice's, and
at the end alice's world must be exactly as it was. Crons are fired for real:
bob's cron aimed at alice's namespace runs at the next minute boundary and
must write into bob's space only.

The route × attacker table is printed (``pytest -s``) and written to
``$SECURITY_TABLE`` when that is set (``make security``); docs/security.md
gives the latest run's date and counts.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ReflectionExecutor
from tests.server import ALICE_KEY, BOB_KEY, Server, keyed_env, message, run_server, wait_until

pytestmark = pytest.mark.integration

ALICE = ALICE_KEY
BOB = BOB_KEY
SECRET = "Alice keeps her spare key under the blue flowerpot."
# The keyed server is the session's (tests/conftest.py): other modules' users live on it
# too, so alice's home is a city no other test writes (bob may say "Porto" elsewhere).
HOME = "Reykjavik"

ATTACKERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "studio header": {"x-auth-scheme": "langsmith", "x-user-id": "alice"},
    "wrong key": {"authorization": "Bearer " + "w" * 24},
    "bob": {"x-api-key": BOB},
}
ANONYMOUS_ROUTES = {
    ("GET", "/"), ("GET", "/ok"), ("GET", "/info"), ("GET", "/reflect/meta"),
    ("GET", "/inspector"), ("GET", "/inspector/"), ("GET", "/inspector/api/meta"),
    ("GET", "/inspector/api/resolve"),
}  # fmt: skip
"""Routes any caller may use: health, version, the features clients adapt to, the inspector's
page and its key-free look-ups (see docs/security.md)."""
DEV_ONLY = {"/internal/truncate", "/internal/debug/thread/{thread_id}", "/deploy",
            "/deploy/{operation_id}/stream"}  # fmt: skip
"""The in-memory runtime's maintenance routes: refused to everyone while keys are on."""
DISABLED = {"/mcp/", "/a2a/{assistant_id}"}
"""Switched off in langgraph.json (``http.disable_mcp`` / ``disable_a2a``): 404 for all."""


@dataclass
class Victim:
    done: str
    pending: str
    run: str
    checkpoint: str
    assistant: str
    system_assistant: str
    cron: str
    memory_key: str

    def markers(self) -> list[str]:
        """Strings that must appear in no answer to an attacker."""
        return [self.done, self.pending, self.run, self.assistant, self.cron, HOME, SECRET]


@dataclass
class Case:
    """One attack: a request with alice's ids, and the status codes bob may get for it."""

    method: str
    route: str
    name: str
    bob: set[int]
    body: Callable[[Victim], Any] | None = None
    params: Callable[[Victim], dict[str, Any]] | None = None


_ALICE_NS = ["alice", "memories", "alice"]  # where alice's memories really are
_RUN = {"assistant_id": "memory_manager", "input": message("I live on Mars.")}
_FORGED = {"configurable": {"langgraph_auth_user_id": "alice"}}
_OWN_SPACE = {200, 204}  # accepted, but inside bob's own prefix or with bob's own resources
_STREAM_404 = {
    200,
    404,
}  # a stream opens (200), then says "404: Thread not found" in its first event
_STRIPPED = {200, 403, 422}  # the server drops langgraph_auth_* (200) or we refuse it (403)

CASES: list[Case] = [
    # --- assistants
    Case("POST", "/assistants", "create with alice's id", {403, 409},
         lambda v: {"assistant_id": v.assistant, "graph_id": "memory_manager", "if_exists": "do_nothing"}),
    Case("POST", "/assistants", "create posing as system", {403},
         lambda v: {"graph_id": "memory_manager", "metadata": {"created_by": "system"}}),
    Case("POST", "/assistants/search", "search", {200}, lambda v: {"limit": 100}),
    Case("POST", "/assistants/count", "count", {200}, lambda v: {}),
    Case("GET", "/assistants/{assistant_id}", "read alice's", {404}),
    Case("PATCH", "/assistants/{assistant_id}", "update alice's", {404},
         lambda v: {"context": {"namespace": ["memories", "bob"]}}),
    Case("DELETE", "/assistants/{assistant_id}", "delete alice's", {404}),
    Case("PATCH", "/assistants/{system_assistant}", "update the deployed one", {404},
         lambda v: {"context": {"namespace": _ALICE_NS}}),
    Case("DELETE", "/assistants/{system_assistant}", "delete the deployed one", {404}),
    Case("GET", "/assistants/{assistant_id}/graph", "read graph", {404}),
    Case("GET", "/assistants/{assistant_id}/subgraphs", "read subgraphs", {404}),
    Case("GET", "/assistants/{assistant_id}/subgraphs/{namespace}", "read subgraph", {404}),
    Case("GET", "/assistants/{assistant_id}/schemas", "read schemas", {404}),
    Case("POST", "/assistants/{assistant_id}/versions", "list versions", {404}, lambda v: {}),
    Case("POST", "/assistants/{assistant_id}/latest", "set latest", {404}, lambda v: {"version": 1}),
    # --- threads
    Case("POST", "/threads", "create with alice's id", {409},
         lambda v: {"thread_id": v.pending, "if_exists": "do_nothing"}),
    Case("POST", "/threads", "create owned by alice", {403},
         lambda v: {"metadata": {"owner": "alice"}}),
    Case("POST", "/threads/search", "search", {200}, lambda v: {"limit": 100}),
    Case("POST", "/threads/count", "count", {200}, lambda v: {}),
    Case("POST", "/threads/prune", "prune alice's", {200, 404, 422},
         lambda v: {"thread_ids": [v.done, v.pending]}),
    Case("GET", "/threads/{thread_id}/storage", "read storage", {404}),
    Case("GET", "/threads/{thread_id}/state", "read state", {404}),
    Case("POST", "/threads/{thread_id}/state", "write seen ids", {404},
         lambda v: {"values": {"seen_message_ids": ["x"]}}),
    Case("GET", "/threads/{thread_id}/state/{checkpoint_id}", "read checkpoint", {404}),
    Case("POST", "/threads/{thread_id}/state/checkpoint", "read checkpoint (POST)", {404},
         lambda v: {"checkpoint": {"checkpoint_id": v.checkpoint}}),
    Case("GET", "/threads/{thread_id}/history", "read history", {404}),
    Case("POST", "/threads/{thread_id}/history", "read history (POST)", {404}, lambda v: {}),
    Case("POST", "/threads/{thread_id}/copy", "copy", {404, 409}, lambda v: {}),
    Case("GET", "/threads/{thread_id}", "read", {404}),
    Case("PATCH", "/threads/{thread_id}", "hand over to bob", {403, 404},
         lambda v: {"metadata": {"owner": "bob"}}),
    Case("DELETE", "/threads/{thread_id}", "delete", {404}),
    Case("GET", "/threads/{thread_id}/stream", "join stream", _STREAM_404),
    Case("POST", "/threads/{thread_id}/stream/events", "stream events", {400, 404, 422},
         lambda v: {}),
    Case("POST", "/threads/{thread_id}/commands", "send command", {400, 404, 422}, lambda v: {}),
    # --- runs on a thread
    Case("GET", "/threads/{thread_id}/runs", "list runs", {404}),
    Case("POST", "/threads/{thread_id}/runs", "supersede pending run", {404},
         lambda v: {**_RUN, "multitask_strategy": "rollback"}),
    Case("POST", "/threads/{thread_id}/runs/crons", "cron on alice's thread", {404},
         lambda v: {**_RUN, "schedule": "* * * * *", "multitask_strategy": "rollback"}),
    Case("POST", "/threads/{thread_id}/runs/stream", "stream a run", {404}, lambda v: _RUN),
    Case("POST", "/threads/{thread_id}/runs/wait", "wait for a run", {404}, lambda v: _RUN),
    Case("GET", "/threads/{thread_id}/runs/{run_id}", "read run", {404}),
    Case("DELETE", "/threads/{thread_id}/runs/{run_id}", "delete run", {404}),
    Case("GET", "/threads/{thread_id}/runs/{run_id}/join", "join run", {404}),
    Case("GET", "/threads/{thread_id}/runs/{run_id}/stream", "stream run", _STREAM_404),
    Case("POST", "/threads/{thread_id}/runs/{run_id}/cancel", "cancel run", {404}),
    # --- stateless runs, batches, bulk cancel
    Case("POST", "/runs", "run into alice's namespace", _OWN_SPACE,
         lambda v: {**_RUN, "context": {"namespace": _ALICE_NS}}),
    Case("POST", "/runs", "run posing as alice", _STRIPPED, lambda v: {**_RUN, "config": _FORGED}),
    Case("POST", "/runs/stream", "stream posing as alice", _STRIPPED,
         lambda v: {**_RUN, "context": {"langgraph_auth_user_id": "alice"}}),
    Case("POST", "/runs/wait", "wait into alice's namespace", _OWN_SPACE,
         lambda v: {**_RUN, "context": {"namespace": _ALICE_NS}}),
    Case("POST", "/runs/batch", "batch into alice's namespace", _OWN_SPACE,
         lambda v: [{**_RUN, "context": {"namespace": _ALICE_NS}}]),
    Case("POST", "/runs/cancel", "cancel alice's run", {404, 422},
         lambda v: {"thread_id": v.pending, "run_ids": [v.run]}),
    Case("POST", "/runs/cancel", "cancel every pending run", {200, 204, 404},
         lambda v: {"status": "pending"}),
    # --- crons
    Case("POST", "/runs/crons", "cron into alice's namespace", {200},  # fired below
         lambda v: {**_RUN, "schedule": "0 0 1 1 *", "context": {"namespace": _ALICE_NS}}),
    Case("POST", "/runs/crons", "cron posing as alice", _STRIPPED,
         lambda v: {**_RUN, "schedule": "0 0 1 1 *", "config": _FORGED}),
    Case("POST", "/runs/crons", "cron posing as alice (context)", _STRIPPED,
         lambda v: {**_RUN, "schedule": "0 0 1 1 *", "context": _FORGED["configurable"]}),
    Case("POST", "/runs/crons", "cron with a huge delay", {422},
         lambda v: {**_RUN, "schedule": "* * * * *", "after_seconds": 1e12}),
    Case("POST", "/runs/crons/search", "search crons", {200}, lambda v: {}),
    Case("POST", "/runs/crons/count", "count crons", {200}, lambda v: {}),
    Case("GET", "/runs/crons/{cron_id}", "read alice's cron", {404}),
    Case("PATCH", "/runs/crons/{cron_id}", "update alice's cron", {404},
         lambda v: {"schedule": "* * * * *"}),
    Case("DELETE", "/runs/crons/{cron_id}", "delete alice's cron", {404}),
    # --- store
    Case("GET", "/store/items", "read alice's memory", {200, 404},  # 200: null, bob has none
         params=lambda v: {"namespace": "memories.alice", "key": v.memory_key}),
    Case("PUT", "/store/items", "write into alice's namespace", _OWN_SPACE,
         lambda v: {"namespace": _ALICE_NS, "key": v.memory_key, "value": {"content": "forged"}}),
    Case("DELETE", "/store/items", "delete alice's memory", _OWN_SPACE,
         lambda v: {"namespace": ["memories", "alice"], "key": v.memory_key}),
    Case("POST", "/store/items/search", "search memories", {200},
         lambda v: {"namespace_prefix": [], "limit": 100}),
    Case("POST", "/store/namespaces", "list namespaces", {200}, lambda v: {}),
    # --- switched off, and platform meta routes
    Case("POST", "/a2a/{assistant_id}", "A2A", {404}, lambda v: {}),
    Case("GET", "/mcp/", "MCP", {404}),
    Case("POST", "/mcp/", "MCP tools/list", {404},
         lambda v: {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    Case("DELETE", "/mcp/", "MCP", {404}),
    Case("GET", "/info", "version", {200}),
    Case("GET", "/ok", "health", {200}),
    Case("GET", "/metrics", "metrics", {200}),
    Case("GET", "/docs", "API docs", {200}),
    Case("GET", "/openapi.json", "API spec", {200}),
    Case("GET", "/", "root", {200}),
    Case("POST", "/ui/{graph_id}", "graph UI", {200, 404, 422}, lambda v: {}),
    Case("POST", "/internal/truncate", "wipe the database", {403}, lambda v: {}),
    Case("GET", "/internal/debug/thread/{thread_id}", "debug alice's thread", {403}),
    Case("GET", "/deploy", "deploy status", {403}),
    Case("POST", "/deploy", "start a deploy", {403}, lambda v: {}),
    Case("GET", "/deploy/{operation_id}/stream", "deploy log", {403}),
    # --- the inspector (page and contract look-ups; its data comes from the routes above)
    Case("GET", "/inspector", "page (redirect)", {307}),
    Case("GET", "/inspector/", "page", {200}),
    Case("GET", "/inspector/api/meta", "names", {200}),
    Case("GET", "/inspector/api/resolve", "resolve alice's key", {200},
         params=lambda v: {"thread_id": "alice-pending"}),
    Case("GET", "/inspector/api/whoami", "who am I", {200}),
    Case("GET", "/reflect/meta", "server features", {200}),
]  # fmt: skip


def _sdk(url: str, key: str) -> Any:
    return get_sync_client(url=url, api_key=key)


@pytest.fixture(scope="module")
def victim(keyed_server: Server) -> Victim:
    return make_victim(keyed_server.url)


def make_victim(url: str) -> Victim:
    """Alice's world on the server at ``url`` (the scale-out suite builds it on a cluster)."""
    with ReflectionExecutor("memory_manager", ("memories", "alice"), url=url, api_key=ALICE) as ex:
        done = ex.submit(message(f"I live in {HOME}."), after_seconds=0, thread_id="alice-done")
        done.result(timeout=90)
        pending = ex.submit(message(SECRET), after_seconds=3600, thread_id="alice-pending")
        pending.wait_accepted(timeout=30)
    with _sdk(url, ALICE) as sdk:
        run = sdk.runs.list(pending.thread_id, status="pending")[0]["run_id"]
        mine = sdk.assistants.create("memory_manager", name="alice-private",
                                     context={"namespace": ["memories", "alice"]})  # fmt: skip
        system = sdk.assistants.search(graph_id="memory_manager", metadata={"created_by": "system"})
        cron = sdk.crons.create_for_thread(done.thread_id, "memory_manager",
                                           schedule="0 0 1 1 *", input=message(SECRET))  # fmt: skip
        memory_key = sdk.store.search_items(["memories", "alice"])["items"][0]["key"]
        checkpoint = sdk.threads.get_state(done.thread_id)["checkpoint"]["checkpoint_id"]
    return Victim(
        done=done.thread_id,
        pending=pending.thread_id,
        run=str(run),
        checkpoint=str(checkpoint),
        assistant=str(mine["assistant_id"]),
        system_assistant=str(system[0]["assistant_id"]),
        cron=str(cron["cron_id"]),
        memory_key=str(memory_key),
    )


def snapshot(url: str, v: Victim) -> dict[str, Any]:
    """Everything of alice's, as her own key sees it (plus the deployed assistant)."""
    with _sdk(url, ALICE) as sdk:
        threads = sdk.threads.search(limit=100)
        namespaces = sdk.store.list_namespaces(limit=100)["namespaces"]
        return {
            "threads": sorted(
                (t["thread_id"], json.dumps(t["metadata"], sort_keys=True)) for t in threads
            ),
            "state": sdk.threads.get_state(v.done)["values"],
            "runs": {
                t["thread_id"]: sorted(
                    (r["run_id"], r["status"]) for r in sdk.runs.list(t["thread_id"])
                )
                for t in threads
            },
            "assistants": sorted(
                (a["assistant_id"], a["version"], json.dumps([a["context"], a["metadata"]]))
                for a in sdk.assistants.search(limit=100)
            ),
            "crons": sorted((c["cron_id"], c["schedule"]) for c in sdk.crons.search()),
            "store": sorted(
                (tuple(ns), i["key"], json.dumps(i["value"], sort_keys=True))
                for ns in namespaces
                for i in sdk.store.search_items(ns, limit=100)["items"]
                if tuple(i["namespace"]) == tuple(ns)
            ),
        }


def _path(route: str, v: Victim) -> str:
    return (
        route.replace("{thread_id}", v.pending)
        .replace("{run_id}", v.run)
        .replace("{assistant_id}", v.assistant)
        .replace("{system_assistant}", v.system_assistant)
        .replace("{cron_id}", v.cron)
        .replace("{checkpoint_id}", v.checkpoint)
        .replace("{namespace}", "x")
        .replace("{graph_id}", "memory_manager")
        .replace("{operation_id}", "0")
    )


def _sent(case: Case, v: Victim) -> str:
    """Everything the attacker put into the request (an error may echo it back)."""
    body = case.body(v) if case.body else None
    params = case.params(v) if case.params else None
    return _path(case.route, v) + json.dumps(body) + json.dumps(params)


def _call(url: str, case: Case, v: Victim, headers: dict[str, str]) -> tuple[int, str]:
    """The status and (the start of) the answer; a stream is read for a moment only."""
    body = case.body(v) if case.body else None
    params = case.params(v) if case.params else None
    with httpx.Client(base_url=url, timeout=httpx.Timeout(20, read=3)) as client:
        try:
            with client.stream(case.method, _path(case.route, v), json=body, params=params,
                               headers=headers) as resp:  # fmt: skip
                text = b""
                try:
                    for chunk in resp.iter_bytes():
                        text += chunk
                        if len(text) > 200_000:
                            break
                except httpx.ReadTimeout:  # an open stream: what came so far is the answer
                    pass
                return resp.status_code, text.decode(errors="replace")
        except httpx.ReadTimeout:
            return 0, ""


def _expected(case: Case, attacker: str) -> set[int]:
    if case.route in DISABLED:  # checked after authentication
        return {404} if attacker == "bob" else {401}
    if case.route in DEV_ONLY:
        return {403}
    if (case.method, case.route) in ANONYMOUS_ROUTES:
        return case.bob
    return case.bob if attacker == "bob" else {401}


def route_of(case: Case) -> tuple[str, str]:
    """The OpenAPI operation a case attacks."""
    return case.method, case.route.replace("{system_assistant}", "{assistant_id}")


def test_every_route_is_covered(keyed_server):
    """A route the server gains (an upgrade) fails here until it has an attack case."""
    assert served_routes(keyed_server.url) - {route_of(c) for c in CASES} == set()


def test_attackers_are_refused_and_alice_is_untouched(keyed_server, victim, capsys):
    before = snapshot(keyed_server.url, victim)
    rows, problems = attack(keyed_server.url, CASES, victim)
    _report(rows)
    assert problems == [], "\n".join(problems)
    wait_for_bobs_runs(keyed_server.url)
    assert snapshot(keyed_server.url, victim) == before
    with _sdk(keyed_server.url, BOB) as bob:  # captures of refused runs were taken back
        assert bob.store.search_items(["reflection_inbox"], limit=100)["items"] == []


def served_routes(url: str) -> set[tuple[str, str]]:
    """(method, path) of every operation in the server's own OpenAPI document."""
    spec = httpx.get(f"{url}/openapi.json", headers={"x-api-key": ALICE}).json()
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


def attack(
    url: str, cases: list[Case], victim: Victim
) -> tuple[list[tuple[str, str, str, str, int]], list[str]]:
    """Every case by every attacker: the table's rows, and what went wrong (empty: nothing)."""
    rows: list[tuple[str, str, str, str, int]] = []
    problems: list[str] = []
    # What bob can learn is what he did not send himself, in this request or another (an id
    # he sent may come back later, e.g. as a namespace in his own store).
    sent = "".join(_sent(case, victim) for case in CASES)
    for case in cases:
        for attacker, headers in ATTACKERS.items():
            status, text = _call(url, case, victim, headers)
            expected = _expected(case, attacker)
            leaked = [m for m in victim.markers() if m in text and m not in sent]
            rows.append((f"{case.method} {case.route}", case.name, attacker,
                         "/".join(map(str, sorted(expected))), status))  # fmt: skip
            if status not in expected or leaked:
                problems.append(f"{attacker}: {case.method} {case.route} ({case.name}) -> "
                                f"{status} {text[:200]!r}; leaked {leaked}")  # fmt: skip
    return rows, problems


def wait_for_bobs_runs(url: str) -> None:
    """The runs bob started above write (or not) when they execute: wait for all of them."""
    with _sdk(url, BOB) as bob:

        def idle() -> bool:
            threads = bob.threads.search(limit=100)
            return all(t["status"] != "busy" for t in threads) and not any(
                bob.runs.list(t["thread_id"], status="pending") for t in threads
            )

        wait_until(idle, 120, 0.5, "bob's runs to finish")


def _report(rows: list[tuple[str, str, str, str, int]]) -> None:
    lines = [
        f"Security table, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {len(rows)} attempts, "
        f"{len({r[0] for r in rows})} routes, {len(ATTACKERS)} attackers",
        "",
        "| route | attempt | attacker | expected | got |",
        "|---|---|---|---|---|",
        *(f"| `{r}` | {n} | {a} | {e} | {g} |" for r, n, a, e, g in rows),
    ]
    text = "\n".join(lines)
    print("\n" + text)
    if out := os.environ.get("SECURITY_TABLE"):
        with open(out, "w") as f:
            f.write(text + "\n")


@pytest.mark.slow
def test_crons_fire_inside_their_creators_space(keyed_server, victim):
    """Bob's cron aimed at alice's real namespace fires, and writes into bob's space only."""
    url = keyed_server.url
    before = snapshot(url, victim)
    target = f"bob-cron-{uuid.uuid4().hex[:6]}"
    with _sdk(url, BOB) as bob:
        cron = bob.crons.create("memory_manager", schedule="* * * * *",
                                input=message(f"I live in {target}."),
                                context={"namespace": _ALICE_NS})  # fmt: skip

        def fired() -> bool:
            items = bob.store.search_items(["alice", "memories", "alice"], limit=100)["items"]
            return any(target in json.dumps(i["value"]) for i in items)

        try:
            # Crons fire on the minute: at most one minute boundary, plus the scheduler's poll.
            wait_until(fired, 90, 1.0, "bob's cron run to write into bob's space")
        finally:
            bob.crons.delete(cron["cron_id"])
    with _sdk(url, ALICE) as alice:
        assert not any(target in json.dumps(i["value"])
                       for i in alice.store.search_items([], limit=100)["items"])  # fmt: skip
    assert snapshot(url, victim) == before


def test_studio_header_is_refused_but_a_key_works_in_studio(keyed_server):
    """Studio connects to a keyed server with the user's key as a custom header."""
    url = f"{keyed_server.url}/threads/search"
    refused = httpx.post(url, json={}, headers={"x-auth-scheme": "langsmith"})
    assert refused.status_code == 401
    ok = httpx.post(url, json={}, headers={"x-auth-scheme": "langsmith", "x-api-key": ALICE})
    assert ok.status_code == 200
    assert {t["metadata"]["owner"] for t in ok.json()} == {"alice"}


def test_cross_site_requests_are_refused(keyed_server):
    headers = {"x-api-key": ALICE, "origin": "https://evil.example"}
    r = httpx.post(f"{keyed_server.url}/threads/search", json={}, headers=headers)
    assert r.status_code == 403 and "origin" in r.json()["detail"]
    pre = httpx.options(
        f"{keyed_server.url}/threads/search",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert pre.headers.get("access-control-allow-origin") is None
    studio = httpx.options(
        f"{keyed_server.url}/threads/search",
        headers={"origin": "https://smith.langchain.com", "access-control-request-method": "POST"},
    )
    assert studio.headers.get("access-control-allow-origin") == "https://smith.langchain.com"


def test_bodies_are_bounded_before_and_after_authentication(keyed_server):
    big = b"[" + b"0," * (3 * 1024 * 1024) + b"0]"
    anon = httpx.post(f"{keyed_server.url}/runs", content=big,
                      headers={"content-type": "application/json"})  # fmt: skip
    assert anon.status_code == 401  # refused before the body is read
    headers = {"x-api-key": ALICE, "content-type": "application/json"}
    r = httpx.post(f"{keyed_server.url}/runs", content=big, headers=headers)
    assert r.status_code == 413 and "MEMORY_MAX_BODY_BYTES" in r.json()["detail"]
    deep = b"[" * 5000 + b"]" * 5000
    for path in ("/runs", "/threads/search", "/store/items"):
        method = "PUT" if path == "/store/items" else "POST"
        r = httpx.request(method, f"{keyed_server.url}{path}", content=deep, headers=headers)
        assert r.status_code == 422 and "nested" in r.json()["detail"], (path, r.text)
    r = httpx.post(f"{keyed_server.url}/runs", content=b"{not json", headers=headers)
    assert 400 <= r.status_code < 500


def test_inspector_redirect_stays_on_the_server(keyed_server):
    r = httpx.get(f"{keyed_server.url}/inspector", headers={"host": "evil.example"})
    assert r.status_code in (301, 302, 307) and r.headers["location"] == "inspector/"


def test_thread_keys_map_through_the_api_key(keyed_server):
    """The same conversation key is a different, uncomputable thread for each API key."""
    with (
        ReflectionExecutor("memory_manager", ("m",), url=keyed_server.url, api_key=ALICE) as a,
        ReflectionExecutor("memory_manager", ("m",), url=keyed_server.url, api_key=BOB) as b,
    ):
        fa = a.submit(message("I like tea."), after_seconds=0, thread_id="shared-key")
        fb = b.submit(message("I like coffee."), after_seconds=0, thread_id="shared-key")
        assert fa.thread_id != fb.thread_id
        fa.result(timeout=60)
        fb.result(timeout=60)


@pytest.fixture(scope="module")
def studio_server() -> Iterator[Server]:
    with run_server(keyed_env("alice", MEMORY_STUDIO_ACCESS="true"), index=False) as srv:
        yield srv


def test_studio_opt_in_sees_everything_and_its_runs_touch_no_store(studio_server):
    """MEMORY_STUDIO_ACCESS: the header is an operator's pass; its runs fail closed."""
    url = studio_server.url
    with ReflectionExecutor("memory_manager", ("memories",), url=url, api_key=ALICE) as ex:
        ex.submit(message("I live in Porto."), after_seconds=0, thread_id="t").result(timeout=60)
        tid = ex.submit(message("I like tea."), after_seconds=0, thread_id="t").thread_id
        ex.flush(timeout=60)
    studio = {"x-auth-scheme": "langsmith"}
    threads = httpx.post(f"{url}/threads/search", json={}, headers=studio).json()
    # The operator sees every thread, the server jobs' scan claims too (graphs/server/lease.py).
    users = [t for t in threads if "memory_reflect_claim" not in (t["metadata"] or {})]
    assert [t["thread_id"] for t in users] == [tid]
    with _sdk(url, ALICE) as alice:
        before = alice.store.search_items(["memories"], limit=100)["items"]
    assert len(before) == 2
    r = httpx.post(f"{url}/threads/{tid}/runs/wait", headers=studio, timeout=60,
                   json={"assistant_id": "memory_manager", "input": message("I live on Mars.")})  # fmt: skip
    # The server hides a run's error message from the caller; its log has it in full.
    assert "UnscopedRunError" in r.text, r.text
    assert "no API-key identity" in studio_server.log_text()
    with _sdk(url, ALICE) as alice:
        assert alice.store.search_items(["memories"], limit=100)["items"] == before
