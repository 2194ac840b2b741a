"""Requests the API fuzzer (``make fuzz``) found answered with a 500, each now a 4xx naming the
field, or answered as it should be; one test per finding, on a keyed ``langgraph dev``."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.server import ALICE_KEY

pytestmark = pytest.mark.integration


@pytest.fixture
def http(keyed_server):
    with httpx.Client(base_url=keyed_server.url, headers={"x-api-key": ALICE_KEY}, timeout=30) as c:
        yield c


@pytest.fixture
def thread(http) -> str:
    tid = str(uuid.uuid4())
    assert http.post("/threads", json={"thread_id": tid}).status_code == 200
    return tid


def _memory_thread(http) -> str:
    """A new thread that names the memory graph (as a run on it would)."""
    answer = http.post("/threads", json={"metadata": {"graph_id": "memory_manager"}})
    assert answer.status_code == 200, answer.text
    return answer.json()["thread_id"]


@pytest.mark.parametrize("kind", ["wait", "stream"])
def test_a_blank_assistant_id_is_refused_not_a_500(http, thread, kind):
    """Capture asked the in-process client for assistant '' and got None back."""
    answer = http.post(f"/threads/{thread}/runs/{kind}", json={"assistant_id": "", "input": {}})
    assert answer.status_code == 422 and "Invalid assistant" in answer.text


def test_a_cron_without_a_schedule_is_refused(http, thread):
    answer = http.post(f"/threads/{thread}/runs/crons", json={"assistant_id": "memory_manager"})
    assert answer.status_code == 422 and answer.json()["detail"].startswith("schedule: required")
    bad = http.post("/runs/crons", json={"assistant_id": "memory_manager", "schedule": "61 * * *"})
    assert bad.status_code == 422 and "schedule: expected a cron expression" in bad.text


def test_store_search_names_what_it_needs(http):
    missing = http.post("/store/items/search", json={})
    assert missing.status_code == 422 and missing.json()["detail"].startswith("namespace_prefix")
    blank = http.post("/store/items/search", json={"namespace_prefix": [], "query": ""})
    assert blank.status_code == 422 and blank.json()["detail"].startswith("query")
    assert http.post("/store/items/search", json={"namespace_prefix": []}).status_code == 200


@pytest.mark.parametrize("route", ["/threads/search", "/threads/count"])
def test_a_values_filter_with_a_thread_without_values(http, thread, route):
    """langgraph-runtime-inmem failed on the new thread's values (graphs/server/filter_patch.py)."""
    for values in ({"a": 1}, {"": None}):
        answer = http.post(route, json={"values": values})
        assert answer.status_code == 200, answer.text
        assert answer.json() in ([], 0)


def test_a_copy_of_a_thread_without_checkpoints_reads_and_updates(http):
    """langgraph-runtime-inmem's copy lost its checkpoints' defaults (graphs/server/copy_patch.py)."""
    source = _memory_thread(http)
    copied = http.post(f"/threads/{source}/copy")
    assert copied.status_code == 200, copied.text
    copy = copied.json()["thread_id"]
    for answer in (
        http.get(f"/threads/{copy}/state"),
        http.post(f"/threads/{copy}/state/checkpoint", json={"checkpoint": {}}),
        http.post(f"/threads/{copy}/history", json={}),
    ):
        assert answer.status_code == 200, answer.text
    assert http.get(f"/threads/{copy}/state").json()["values"] == {}
    # Writing its first checkpoint (a run on the copy failed there too).
    written = http.post(f"/threads/{copy}/state", json={"values": {"run_id": "r"}})
    assert written.status_code == 200, written.text
    assert http.get(f"/threads/{copy}/state").json()["checkpoint"] == written.json()["checkpoint"]


def test_history_before_a_checkpoint_object(http):
    """The in-memory runtime read `before` as a config, not the documented checkpoint
    object (graphs/server/history_patch.py)."""
    tid = _memory_thread(http)
    for step in ("a", "b"):
        answer = http.post(f"/threads/{tid}/state", json={"values": {"run_id": step}})
        assert answer.status_code == 200, answer.text
    states = http.post(f"/threads/{tid}/history", json={"limit": 10}).json()
    latest = states[0]["checkpoint"]
    answer = http.post(f"/threads/{tid}/history", json={"limit": 10, "before": latest})
    assert answer.status_code == 200, answer.text
    assert [s["checkpoint"] for s in answer.json()] == [s["checkpoint"] for s in states[1:]]
    odd = http.post(f"/threads/{tid}/history", json={"before": {"": ""}})
    assert odd.status_code == 200, odd.text
