"""Property-based tests (hypothesis) of the wire contract: payload validation and namespaces."""

from __future__ import annotations

import math
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from graphs.server_app import run_request_error
from sdk_client.contract import (
    _ROLE_ALIASES,
    MAX_AFTER_SECONDS,
    MAX_MESSAGE_CHARS,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.errors import InvalidPayloadError

roles = st.sampled_from(sorted(_ROLE_ALIASES))
texts = st.text(max_size=200)
messages = st.fixed_dictionaries({"role": roles, "content": texts})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
labels = st.text(min_size=1, max_size=20).filter(lambda s: "." not in s)


@given(st.lists(messages, min_size=1, max_size=10))
def test_valid_payloads_keep_every_message_with_a_stable_id(msgs):
    out = normalize_payload({"messages": msgs})
    assert [m["content"] for m in out] == [m["content"] for m in msgs]
    assert [m["role"] for m in out] == [_ROLE_ALIASES[m["role"]] for m in msgs]
    assert [m["id"] for m in normalize_payload({"messages": msgs})] == [m["id"] for m in out]


@given(json_values)
def test_any_payload_is_either_valid_or_refused_naming_the_field(payload):
    try:
        out = normalize_payload(payload)
    except InvalidPayloadError as err:  # also covers InvalidPayloadTypeError
        assert str(err).startswith("payload")
    else:
        assert out and all(len(m["content"]) <= MAX_MESSAGE_CHARS for m in out)


@given(st.lists(messages, min_size=1, max_size=5), st.integers(0, 4), json_values)
def test_one_bad_field_is_named_by_its_index(msgs, at, value):
    at %= len(msgs)
    msgs[at] = {**msgs[at], "content": value}
    try:
        normalize_payload({"messages": msgs})
    except InvalidPayloadError as err:
        assert str(err).startswith(f"payload.messages[{at}]")


@given(st.lists(st.text(max_size=10), max_size=5))
def test_a_namespace_is_accepted_iff_every_label_is_non_empty_and_undotted(raw):
    ok = bool(raw) and all(label and "." not in label for label in raw)
    try:
        assert validate_namespace(raw) == tuple(raw)
    except InvalidPayloadError as err:
        assert not ok
        assert str(err).startswith("namespace")
    else:
        assert ok


@given(labels, labels.filter(lambda s: "{" not in s and "}" not in s), texts)
def test_templating_fills_placeholders_and_refuses_what_would_be_a_bad_label(prefix, suffix, value):
    prefix = prefix.replace("{", "").replace("}", "") or "p"
    template = ("memories", f"{prefix}{{user_id}}{suffix}")
    try:
        got = resolve_namespace(template, {"user_id": value})
    except InvalidPayloadError as err:
        assert value == "" or "." in value
        assert str(err).startswith("namespace")
    else:
        assert got == ("memories", f"{prefix}{value}{suffix}")


@given(st.lists(labels, min_size=1, max_size=3))
def test_a_missing_placeholder_is_named_never_shared(base):
    base = [label.replace("{", "").replace("}", "") or "x" for label in base]
    try:
        resolve_namespace((*base, "{user_id}"), {})
    except InvalidPayloadError as err:
        assert "user_id" in str(err)
    else:
        raise AssertionError("a namespace with an unfilled placeholder was accepted")


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_after_seconds_is_checked_the_same_on_both_sides(value):
    ok = math.isfinite(value) and 0 <= value <= MAX_AFTER_SECONDS
    try:
        assert validate_after_seconds(value) == float(value)
    except InvalidPayloadError:
        assert not ok
    else:
        assert ok
    server = run_request_error({"assistant_id": "memory_manager", "after_seconds": value})
    assert (server is None) == ok
    if not ok:
        assert server is not None and server.startswith("after_seconds")


@given(json_values)
def test_the_server_check_never_crashes_on_any_body(body: Any):
    error = run_request_error(body)
    assert error is None or "after_seconds" in error or "input" in error


@given(st.text(min_size=1).filter(str.strip))
def test_thread_keys_map_to_one_stable_uuid(key):
    tid = validate_thread_id(key)
    assert str(uuid.UUID(tid)) == tid == validate_thread_id(key)
