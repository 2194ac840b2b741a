"""Server-side capture's plan: which requests, what entry, what body goes on."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from graphs.server import capture
from graphs.server.capture import capture_thread, plan_capture
from sdk_client.errors import InvalidPayloadError

T = "11111111-2222-3333-4444-555555555555"
GOOD = {"messages": [{"role": "user", "content": "I like tea."}]}


@pytest.mark.parametrize(
    ("method", "path", "body", "thread"),
    [
        ("POST", f"/threads/{T}/runs", {"input": GOOD}, T),
        ("POST", f"/threads/{T}/runs/wait", {"input": GOOD}, T),
        ("POST", f"/threads/{T}/runs/stream", {"input": GOOD}, T),
        ("POST", f"/threads/{T}/runs/crons", {"input": GOOD}, None),  # fires later, many times
        ("POST", "/runs", {"input": GOOD}, None),  # stateless: nothing supersedes it
        ("GET", f"/threads/{T}/runs", None, None),
        ("POST", f"/threads/{T}/runs", {"input": None}, None),
        ("POST", f"/threads/{T}/runs", {"input": {"messages": [], "redelivery": 2}}, None),
        ("POST", f"/threads/{T}/runs/wait", {"input": {"messages": [], "consolidate": True}}, None),
        ("POST", f"/threads/{T}/runs", {"input": {**GOOD, "consolidate": True}}, T),
    ],
)
def test_which_requests_are_captured(method, path, body, thread):
    assert capture_thread(method, path, body) == thread


def test_the_entry_and_the_body_sent_on():
    body = {"assistant_id": "memory_manager", "input": GOOD, "after_seconds": 30,
            "config": {"configurable": {"user_id": "al", "namespace": ["memories", "{user_id}"]}}}  # fmt: skip
    cap = plan_capture(T, body, ("alice",), now=100.0)
    assert cap.namespace == ("alice", "reflection_inbox", T)
    assert cap.entry["namespace"] == ["memories", "al"]
    [sub] = cap.entry["submissions"]
    assert sub["submission_id"] == cap.key and sub["submitted_at"] == 100.0
    assert sub["after_seconds"] == 30 and sub["messages"][0]["content"] == "I like tea."
    assert cap.entry["run"] == {"assistant_id": "memory_manager", "config": body["config"]}
    assert cap.body["input"] == {**GOOD, "submission_id": cap.key}
    assert not cap.supplied_id


@pytest.mark.parametrize("assistant", [None, "memory_manager", "by-server-id"])
def test_a_run_on_the_graphs_own_assistant_is_bound_to_the_servers_default(assistant, monkeypatch):
    monkeypatch.setenv("MEMORY_NAMESPACE", "memories,{user_id}")
    body = {
        "input": {**GOOD, "submission_id": "s-1"},
        "config": {"configurable": {"user_id": "al"}},
    }
    if assistant is not None:
        body["assistant_id"] = server_assistant_id() if assistant == "by-server-id" else assistant
    cap = plan_capture(T, body, (), now=1.0)
    assert cap.entry["namespace"] == ["memories", "al"] and cap.key == "s-1" and cap.supplied_id


def test_the_graphs_own_assistant_is_known_by_the_id_the_server_gives_it():
    # Read from the installed server's source: importing it needs a configured server.
    spec = importlib.util.find_spec("langgraph_api.graph")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text()
    assert f'NAMESPACE_GRAPH = UUID("{capture.NAMESPACE_GRAPH}")' in source


def server_assistant_id() -> str:
    return str(uuid.uuid5(capture.NAMESPACE_GRAPH, "memory_manager"))


def test_the_default_unset_is_memories():
    cap = plan_capture(T, {"input": GOOD}, (), now=1.0)
    assert cap.entry["namespace"] == ["memories"]


def test_a_run_on_another_assistant_naming_no_namespace_leaves_it_to_the_run():
    # The assistant's own settings may name one; the run that processes the entry decides.
    body = {"assistant_id": "3f1c0f7e-0000-4000-8000-000000000000", "input": GOOD}
    assert plan_capture(T, body, (), now=1.0).entry["namespace"] is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"input": {"messages": [{"role": "robot", "content": "x"}]}}, "input.messages[0].role"),
        ({"input": {}}, "input: missing required field 'messages'"),
        ({"input": GOOD, "context": {"namespace": ["m", "{user_id}"]}}, "no value for placeholder"),
        ({"input": GOOD, "assistant_id": "memory_manager"}, "no value for placeholder(s) user_id"),
    ],
)
def test_bad_input_is_refused_before_the_run_exists(body, says, monkeypatch):
    monkeypatch.setenv("MEMORY_NAMESPACE", "memories,{user_id}")
    with pytest.raises(InvalidPayloadError) as err:
        plan_capture(T, body, (), now=1.0)
    assert says in str(err.value)
