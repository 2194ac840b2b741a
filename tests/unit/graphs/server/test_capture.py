"""Server-side capture's plan: which requests, what entry, what body goes on."""

from __future__ import annotations

import pytest

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


def test_a_run_naming_no_namespace_leaves_it_to_the_run():
    cap = plan_capture(T, {"input": {**GOOD, "submission_id": "s-1"}}, (), now=1.0)
    assert cap.entry["namespace"] is None and cap.key == "s-1" and cap.supplied_id


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"input": {"messages": [{"role": "robot", "content": "x"}]}}, "input.messages[0].role"),
        ({"input": {}}, "input: missing required field 'messages'"),
        ({"input": GOOD, "context": {"namespace": ["m", "{user_id}"]}}, "no value for placeholder"),
    ],
)
def test_bad_input_is_refused_before_the_run_exists(body, says):
    with pytest.raises(InvalidPayloadError) as err:
        plan_capture(T, body, (), now=1.0)
    assert says in str(err.value)
