"""Building a submission before any I/O: thread precedence, validation, coalescing."""

import pytest
from langgraph.func import entrypoint

from sdk_client._submission import NOT_GIVEN, build_submission, coalesce, resolve_thread_id
from sdk_client.contract import validate_thread_id
from sdk_client.errors import InvalidPayloadError

PAYLOAD = {"messages": [{"role": "user", "content": "I love tea."}]}


def test_thread_precedence_explicit_then_config():
    cfg = {"configurable": {"thread_id": "from-config"}}
    assert resolve_thread_id("explicit", cfg) == validate_thread_id("explicit")
    assert resolve_thread_id(NOT_GIVEN, cfg) == validate_thread_id("from-config")
    assert resolve_thread_id(None, cfg) == validate_thread_id("from-config")


def test_no_thread_is_a_clear_error():
    with pytest.raises(InvalidPayloadError, match="thread_id: no thread to submit to"):
        resolve_thread_id(NOT_GIVEN, None)
    with pytest.raises(ValueError):
        resolve_thread_id(NOT_GIVEN, {"configurable": {}})


def test_thread_from_the_langgraph_context():
    @entrypoint()
    def node(_: str) -> str:
        return resolve_thread_id(NOT_GIVEN, None)

    got = node.invoke("x", {"configurable": {"thread_id": "ambient"}})
    assert got == validate_thread_id("ambient")


def test_build_submission_validates_everything_first():
    with pytest.raises(InvalidPayloadError, match="after_seconds"):
        build_submission(PAYLOAD, ("m",), config=None, after_seconds=-1, thread_id="t")
    with pytest.raises(InvalidPayloadError, match="user_id"):
        build_submission(PAYLOAD, ("m", "{user_id}"), config=None, after_seconds=0, thread_id="t")
    sub = build_submission(
        PAYLOAD,
        ("m", "{user_id}"),
        config={"configurable": {"user_id": "u1"}},
        after_seconds=2,
        thread_id="t",
    )
    assert sub.namespace == ("m", "u1")
    assert sub.due_at == pytest.approx(sub.submitted_at + 2, abs=1e-6)


def _sub(ns=("m",), after=5.0, thread="t"):
    return build_submission(PAYLOAD, ns, config=None, after_seconds=after, thread_id=thread)


def test_coalesce_one_request_per_namespace_run():
    a, b, c = _sub(), _sub(), _sub(("other",))
    reqs = coalesce([a, b, c], now=b.submitted_at)
    assert len(reqs) == 2
    first = reqs[0]
    assert [s["submission_id"] for s in first.inbox_entry["submissions"]] == [
        a.submission_id,
        b.submission_id,
    ]
    assert first.inbox_key == b.submission_id == first.run_input["submission_id"]
    assert first.run_input["submission_id"] == b.submission_id
    assert first.run_config["configurable"]["namespace"] == ["m"]
    assert reqs[1].inbox_entry["namespace"] == ["other"]


def test_coalesce_counts_the_delay_from_submission_time():
    s = _sub(after=5.0)
    assert coalesce([s], now=s.submitted_at + 2)[0].after_seconds == pytest.approx(3.0, abs=0.01)
    assert coalesce([s], now=s.submitted_at + 9)[0].after_seconds == 0.0


def test_submission_ids_are_random_uuid4_strings():
    import uuid

    from sdk_client._submission import new_submission_id

    ids = {new_submission_id() for _ in range(2000)}
    assert len(ids) == 2000
    for sid in ids:
        parsed = uuid.UUID(sid)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, sid)


def test_the_builder_checks_its_template_once_and_each_filled_namespace_every_time():
    from sdk_client._submission import SubmissionBuilder

    with pytest.raises(InvalidPayloadError, match="namespace"):
        SubmissionBuilder(("a.b",))
    fixed = SubmissionBuilder(("memories",))
    assert fixed.build(PAYLOAD, None, 0, "t").namespace == ("memories",)
    per_user = SubmissionBuilder(("memories", "{user_id}"))
    alice = {"configurable": {"user_id": "alice"}}
    assert per_user.build(PAYLOAD, alice, 0, "t").namespace == ("memories", "alice")
    with pytest.raises(InvalidPayloadError, match="user_id"):
        per_user.build(PAYLOAD, None, 0, "t")
    with pytest.raises(InvalidPayloadError, match=r"namespace\[1\]"):
        per_user.build(PAYLOAD, {"configurable": {"user_id": "a.b"}}, 0, "t")


def test_a_keyed_executors_threads_map_through_its_key_from_every_source():
    key = "K" * 16
    keyed = validate_thread_id("chat", api_key=key)
    config = {"configurable": {"thread_id": "chat"}}
    assert resolve_thread_id("chat", None, key) == keyed
    assert resolve_thread_id(NOT_GIVEN, config, key) == keyed
    sub = build_submission(
        PAYLOAD, ("m",), config=config, after_seconds=0, thread_id=NOT_GIVEN, api_key=key
    )
    assert sub.thread_id == keyed != validate_thread_id("chat")


def test_a_bad_thread_in_the_config_is_named_there():
    with pytest.raises(InvalidPayloadError) as info:
        resolve_thread_id(NOT_GIVEN, {"configurable": {"thread_id": 5}})
    assert (
        str(info.value) == "config.configurable.thread_id: expected a string or uuid.UUID, got int"
    )
    with pytest.raises(InvalidPayloadError) as info:
        resolve_thread_id(NOT_GIVEN, None)
    assert str(info.value) == (
        "thread_id: no thread to submit to. Pass thread_id=... (any string or UUID; one per "
        "conversation), or config={'configurable': {'thread_id': ...}}, or call submit() "
        "inside a LangGraph node or entrypoint"
    )
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


def test_coalescing_alternating_namespaces_keeps_every_group_in_order():
    a, b, c, d = _sub(("m",)), _sub(("o",)), _sub(("o",)), _sub(("m",))
    reqs = coalesce([a, b, c, d], now=d.submitted_at)
    groups = [[s["submission_id"] for s in r.inbox_entry["submissions"]] for r in reqs]
    assert groups == [[a.submission_id], [b.submission_id, c.submission_id], [d.submission_id]]
    assert [r.inbox_entry["namespace"] for r in reqs] == [["m"], ["o"], ["m"]]


def test_the_delay_left_is_sent_in_milliseconds():
    s = _sub(after=5.0)
    assert coalesce([s], now=s.submitted_at + 1.23456)[0].after_seconds == round(5.0 - 1.23456, 3)
    assert s.record() == {
        "submission_id": s.submission_id,
        "messages": s.messages,
        "submitted_at": s.submitted_at,  # gather reads the inbox in this order
        "after_seconds": 5.0,
    }
