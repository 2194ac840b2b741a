"""Per-user isolation on two processes: the attack table of ``tests/integration/test_security.py``.

Alice's world is built through process A; every route in the runtime's own OpenAPI
document is then attacked through each process by the same four attackers (anonymous,
Studio's header, a wrong key, bob with his own key). Each call must get the refusal
listed for it, no answer may hold anything of alice's, and her world must be as it was.

One difference from ``langgraph dev``, the runtime's own: reading the state of a thread
the caller cannot see answers 200 with an empty state (as for a thread that does not
exist), where the in-memory runtime answers 404. Nothing of alice's is in it; the test
checks the answers are empty.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from langgraph_sdk import get_sync_client

from deploy.local_cluster import Cluster
from tests.integration.test_security import (
    CASES,
    attack,
    make_victim,
    route_of,
    served_routes,
    snapshot,
    wait_for_bobs_runs,
)
from tests.server import BOB_KEY

pytestmark = pytest.mark.scaleout

EMPTY_STATE_ROUTES = {
    ("GET", "/threads/{thread_id}/state"),
    ("GET", "/threads/{thread_id}/state/{checkpoint_id}"),
    ("POST", "/threads/{thread_id}/state/checkpoint"),
}
"""Answered 200 with an empty state for a thread the caller cannot see (see above)."""


def test_attackers_are_refused_on_either_process_and_alice_is_untouched(cluster: Cluster):
    a, b = (n.url for n in cluster.nodes[:2])
    served = served_routes(b)
    assert served - {route_of(c) for c in CASES} == set(), "a route with no attack case"
    cases = [
        replace(c, bob=c.bob | {200}) if route_of(c) in EMPTY_STATE_ROUTES else c
        for c in CASES
        if route_of(c) in served
    ]
    victim = make_victim(a)
    before = snapshot(b, victim)
    assert before == snapshot(a, victim), "both processes show alice the same world"
    for url in (b, a):
        _rows, problems = attack(url, cases, victim)
        assert problems == [], "\n".join(problems)
    state = f"{b}/threads/{victim.done}/state"
    for answer in (
        httpx.get(state, headers={"x-api-key": BOB_KEY}),
        httpx.get(f"{state}/{victim.checkpoint}", headers={"x-api-key": BOB_KEY}),
    ):
        assert answer.status_code == 200
        assert answer.json()["values"] == {} and answer.json()["checkpoint"] is None
    wait_for_bobs_runs(a)
    assert snapshot(a, victim) == before
    with get_sync_client(url=b, api_key=BOB_KEY) as bob:  # refused runs' captures taken back
        assert bob.store.search_items(["reflection_inbox"], limit=100)["items"] == []
