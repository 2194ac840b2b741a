import hashlib
import math
import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from sdk_client.contract import (
    MAX_MESSAGE_CHARS,
    message_id,
    normalize_message,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.errors import InvalidPayloadError, InvalidPayloadTypeError


@pytest.mark.parametrize(
    ("payload", "error", "field"),
    [
        (None, InvalidPayloadTypeError, "payload: expected a dict"),
        ([], InvalidPayloadTypeError, "payload: expected a dict"),
        ({}, InvalidPayloadError, "payload: missing required field 'messages'"),
        ({"messages": "hi"}, InvalidPayloadTypeError, "payload.messages: expected a list"),
        ({"messages": {"role": "user"}}, InvalidPayloadTypeError, "payload.messages: expected"),
        ({"messages": []}, InvalidPayloadError, "payload.messages: must hold at least one"),
        (
            {"messages": [{"content": "x"}]},
            InvalidPayloadError,
            "payload.messages[0]: message has neither",
        ),
        (
            {"messages": [{"role": "user"}]},
            InvalidPayloadError,
            "payload.messages[0]: message has no 'content'",
        ),
        (
            {"messages": [{"role": 3, "content": "x"}]},
            InvalidPayloadTypeError,
            "payload.messages[0].role",
        ),
        (
            {"messages": [{"role": "robot", "content": "x"}]},
            InvalidPayloadError,
            "unknown role 'robot'",
        ),
        (
            {"messages": [{"role": "user", "content": 5}]},
            InvalidPayloadTypeError,
            "payload.messages[0].content",
        ),
        (
            {"messages": [{"role": "user", "content": "ok"}, 7]},
            InvalidPayloadTypeError,
            "payload.messages[1]",
        ),
        ({"messages": [{"role": "user", "content": "x", "id": 5}]}, InvalidPayloadTypeError, ".id"),
        ({"messages": [{"role": "user", "content": [3]}]}, InvalidPayloadTypeError, "content[0]"),
    ],
)
def test_bad_payloads_name_the_field(payload, error, field):
    with pytest.raises(error) as info:
        normalize_payload(payload)
    assert field in str(info.value)


def test_type_errors_are_also_value_errors_and_type_errors():
    with pytest.raises(TypeError):
        normalize_payload({"messages": "hi"})
    with pytest.raises(ValueError):
        normalize_payload({"messages": []})


def test_root_names_the_payload_on_the_server():
    with pytest.raises(InvalidPayloadError, match=r"input\.messages\[0\]"):
        normalize_payload({"messages": [{"role": "x", "content": ""}]}, root="input")


def test_accepts_openai_langchain_dicts_and_objects():
    msgs = normalize_payload(
        {
            "messages": [
                {"role": "user", "content": "I live in Oslo."},
                {"type": "ai", "content": "Nice."},
                AIMessage(content="An AI message", id="run-1"),
                HumanMessage(content=[{"type": "text", "text": "block"}, "plain"]),
                {"role": "developer", "content": "be brief"},
                {"type": "human", "content": "hi"},
            ]
        }
    )
    assert [m["role"] for m in msgs] == ["user", "assistant", "assistant", "user", "system", "user"]
    assert msgs[2]["id"] == "run-1"
    assert msgs[3]["content"] == "block\nplain"


def test_ids_are_stable_and_explicit_ids_win():
    a = normalize_payload({"messages": [{"role": "user", "content": "same"}]})[0]
    b = normalize_payload({"messages": [{"type": "human", "content": "same"}]})[0]
    assert a["id"] == b["id"] == message_id("user", "same")
    assert a["id"] != message_id("assistant", "same")
    c = normalize_payload({"messages": [{"role": "user", "content": "same", "id": "mine"}]})[0]
    assert c["id"] == "mine"


def test_oversized_message_is_refused_not_truncated():
    big = "x" * (MAX_MESSAGE_CHARS + 1)
    with pytest.raises(InvalidPayloadError, match="characters"):
        normalize_payload({"messages": [{"role": "user", "content": big}]})
    [kept] = normalize_payload({"messages": [{"role": "user", "content": big[1:]}]})
    assert kept["content"] == big[1:]  # exactly the limit is fine


@pytest.mark.parametrize(
    ("ns", "expected"),
    [("memories", ("memories",)), (("a", "b"), ("a", "b")), (["a"], ("a",))],
)
def test_namespace_forms(ns, expected):
    assert validate_namespace(ns) == expected


@pytest.mark.parametrize(
    ("ns", "message"),
    [
        ((), "at least one label"),
        (("a", ""), r"namespace\[1\]: labels must not be empty"),
        (("a.b",), "must not contain '.'"),
        ((1,), r"namespace\[0\]: expected a string"),
        (5, "expected a string or a sequence"),
    ],
)
def test_bad_namespaces(ns, message):
    with pytest.raises(InvalidPayloadError, match=message):
        validate_namespace(ns)


def test_namespace_templating():
    assert resolve_namespace(("memories", "{user_id}"), {"user_id": "alice"}) == (
        "memories",
        "alice",
    )
    assert resolve_namespace(("m", "{org}-{user_id}"), {"org": "o", "user_id": 7}) == ("m", "o-7")
    with pytest.raises(InvalidPayloadError, match="placeholder.*user_id"):
        resolve_namespace(("memories", "{user_id}"), {})
    with pytest.raises(InvalidPayloadError, match="must not contain '.'"):
        resolve_namespace(("memories", "{user_id}"), {"user_id": "a.b"})
    for bad in ("{}", "{0}", "{user-id}"):
        with pytest.raises(InvalidPayloadError, match="must be names like"):
            resolve_namespace(("memories", bad), {"user_id": "x"})


def test_thread_ids_map_to_stable_uuids():
    u = uuid.uuid4()
    assert validate_thread_id(u) == str(u)
    assert validate_thread_id(str(u).upper()) == str(u)
    mapped = validate_thread_id("alice-chat-1")
    assert uuid.UUID(mapped).version == 5
    assert validate_thread_id("alice-chat-1") == mapped != validate_thread_id("alice-chat-2")
    with pytest.raises(InvalidPayloadError):
        validate_thread_id("  ")
    with pytest.raises(InvalidPayloadTypeError):
        validate_thread_id(12)


def test_thread_keys_map_through_the_api_key():
    """On a keyed server nobody can compute (so pre-create or probe) another key's threads."""
    plain = validate_thread_id("alice-chat-1")
    alice = validate_thread_id("alice-chat-1", api_key="a" * 16)
    bob = validate_thread_id("alice-chat-1", api_key="b" * 16)
    assert len({plain, alice, bob}) == 3
    assert uuid.UUID(alice).version == 5
    assert validate_thread_id("alice-chat-1", api_key="a" * 16) == alice
    assert validate_thread_id("alice-chat-1", api_key="") == plain
    u = uuid.uuid4()
    assert validate_thread_id(str(u), api_key="a" * 16) == str(u)  # a UUID is used as it is


@pytest.mark.parametrize("value", [-1, math.inf, math.nan, "1", True, None])
def test_bad_after_seconds(value):
    with pytest.raises(InvalidPayloadError, match="after_seconds"):
        validate_after_seconds(value)


def test_after_seconds_takes_fractions():
    assert validate_after_seconds(0.5) == 0.5
    assert validate_after_seconds(0) == 0.0


def test_message_ids_are_m_dash_32_hex_of_role_and_content():
    # Stored in the graph's state and receipts: a change would re-process every history.
    digest = hashlib.sha256(b"user\x00hi").hexdigest()
    assert message_id("user", "hi") == f"m-{digest[:32]}"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: normalize_message({"content": "x"}),
            "messages[0]: message has neither 'role' nor 'type'",
        ),
        (
            lambda: validate_namespace(5),
            "namespace: expected a string or a sequence of strings, got int",
        ),
        (lambda: validate_thread_id(5), "thread_id: expected a string or uuid.UUID, got int"),
        (lambda: resolve_namespace([], {}, "ctx.ns"), "ctx.ns: must have at least one label"),
        (
            lambda: resolve_namespace(("m", "{user-id}", "{a b}"), {}, "f"),
            "f: placeholder(s) '{user-id}', '{a b}' in ['m', '{user-id}', '{a b}'] must be "
            "names like {user_id}",
        ),
        (
            lambda: resolve_namespace(("{a}", "{b}"), {"b": ""}, "f"),
            "f: no value for placeholder(s) a, b in ['{a}', '{b}']; pass them in "
            "config['configurable'] (e.g. config={'configurable': {'a': ...}})",
        ),
        (
            lambda: resolve_namespace(("m", "{a}"), {"a": "x.y"}, "f"),
            "f[1]: label 'x.y' must not contain '.'",
        ),
    ],
)
def test_errors_name_the_field_and_say_what_to_do(call, message):
    with pytest.raises(InvalidPayloadError) as info:
        call()
    assert str(info.value) == message
