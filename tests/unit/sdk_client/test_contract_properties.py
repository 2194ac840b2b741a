"""Property-based tests (hypothesis) of the wire contract: payloads, run bodies, namespaces.

Built from valid inputs with one field broken at a time: every branch asserts
the exact outcome (the error and the message naming the field, or the value
kept), so a check that accepts everything, or names the wrong field, fails.
The breakages are pytest parameters, not drawn, so each is reached every run.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from graphs.server.guard import run_request_error
from sdk_client.contract import (
    _ROLE_ALIASES,
    MAX_AFTER_SECONDS,
    MAX_MESSAGE_CHARS,
    message_id,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.errors import InvalidPayloadError, InvalidPayloadTypeError

KNOWN_ROLES = ", ".join(sorted(_ROLE_ALIASES))
raw_roles = st.sampled_from(sorted(_ROLE_ALIASES)).flatmap(
    lambda r: st.sampled_from([r, r.upper(), r.capitalize()])
)
texts = st.text(max_size=50)
blocks = (
    texts
    | st.fixed_dictionaries({"type": st.just("text"), "text": texts})
    | st.just({"type": "image_url", "image_url": {"url": "data:,"}})
)
contents = texts | st.lists(blocks, max_size=3)
messages = st.fixed_dictionaries(
    {"role": raw_roles, "content": contents},
    optional={"id": st.none() | st.just("") | st.text(min_size=1, max_size=10)},
) | st.fixed_dictionaries({"type": raw_roles, "content": contents})
payloads = st.fixed_dictionaries({"messages": st.lists(messages, min_size=1, max_size=5)})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
not_str = (
    st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)
scalars_not_str = st.none() | st.integers() | st.floats(allow_nan=False) | st.booleans()
labels = st.text(min_size=1, max_size=20).filter(lambda s: "." not in s)
roots = st.sampled_from(["payload", "input"])


def expected_message(msg: dict[str, Any]) -> dict[str, str]:
    """What normalize_message must make of a valid message (written apart from it)."""
    role = _ROLE_ALIASES[(msg.get("role") or msg.get("type")).lower()]
    content = msg["content"]
    if isinstance(content, list):
        parts = [b if isinstance(b, str) else b.get("text") for b in content]
        content = "\n".join(p for p in parts if isinstance(p, str) and p)
    return {"id": msg.get("id") or message_id(role, content), "role": role, "content": content}


# ------------------------------------------------------------------ payloads


@given(payloads, roots)
def test_valid_payloads_keep_every_message_with_a_stable_id(payload, root):
    out = normalize_payload(payload, root)
    assert out == [expected_message(m) for m in payload["messages"]]
    assert normalize_payload(payload, root) == out


@given(st.one_of(payloads, st.fixed_dictionaries({"messages": st.lists(json_values)}), json_values))
@example({"messages": [{"role": "user", "content": "hi"}]})
@example({"messages": [{"role": "user"}]})
@example([1])
def test_any_payload_is_either_valid_or_refused_naming_the_field(payload):
    try:
        out = normalize_payload(payload)
    except InvalidPayloadError as err:  # also covers InvalidPayloadTypeError
        event("refused")
        assert str(err).startswith(("payload: ", "payload.messages: ", "payload.messages["))
    else:
        event("valid")
        assert out == [expected_message(m) for m in payload["messages"]]


def _role_missing(msg, value):
    msg.pop("role", None), msg.pop("type", None)
    return InvalidPayloadError, ": message has neither 'role' nor 'type'"


def _role_not_str(msg, value):
    msg["role"] = value
    return InvalidPayloadTypeError, f".role: expected a string, got {type(value).__name__}"


def _role_unknown(msg, value):
    msg["role"] = value
    return InvalidPayloadError, f".role: unknown role {value!r}; expected one of {KNOWN_ROLES}"


def _content_missing(msg, value):
    del msg["content"]
    return InvalidPayloadError, ": message has no 'content'"


def _content_not_text(msg, value):
    msg["content"] = value
    return InvalidPayloadTypeError, (
        f".content: expected a string or a list of content blocks, got {type(value).__name__}"
    )


def _block_not_text(msg, value):
    at, block = value
    msg["content"] = ["before", {"text": "a"}, "after"]
    msg["content"].insert(at, block)
    return InvalidPayloadTypeError, (
        f".content[{at}]: expected a string or a content block dict, got {type(block).__name__}"
    )


def _content_too_long(msg, value):
    msg["content"] = ["x" * MAX_MESSAGE_CHARS, value] if value else "y" * (MAX_MESSAGE_CHARS + 1)
    n = MAX_MESSAGE_CHARS + 1 + len(value) if value else MAX_MESSAGE_CHARS + 1
    return InvalidPayloadError, (
        f".content: {n} characters, more than the {MAX_MESSAGE_CHARS} allowed"
    )


def _id_not_str(msg, value):
    msg["id"] = value
    return InvalidPayloadTypeError, f".id: expected a string, got {type(value).__name__}"


BROKEN_MESSAGE = {
    "role missing": (_role_missing, st.none()),
    "role not a string": (_role_not_str, not_str),
    "role unknown": (_role_unknown, texts.filter(lambda s: s.lower() not in _ROLE_ALIASES)),
    "content missing": (_content_missing, st.none()),
    "content not text": (
        _content_not_text,
        scalars_not_str | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    "content block not text": (
        _block_not_text,
        st.tuples(st.integers(0, 3), st.integers() | st.none() | st.lists(texts, max_size=2)),
    ),
    "content too long": (_content_too_long, st.text(max_size=3)),
    "id not a string": (_id_not_str, not_str),
}


@pytest.mark.parametrize("breakage", BROKEN_MESSAGE)
@given(msgs=st.lists(messages, min_size=1, max_size=5), at=st.integers(0, 4), data=st.data())
def test_one_bad_message_field_is_named_by_its_index(breakage, msgs, at, data):
    at %= len(msgs)
    msgs[at] = {"role": "user", **msgs[at]}  # the role form, so "type" cannot stand in
    msgs[at].pop("type", None)
    brk, values = BROKEN_MESSAGE[breakage]
    error, detail = brk(msgs[at], data.draw(values))
    with pytest.raises(InvalidPayloadError) as info:
        normalize_payload({"messages": msgs})
    assert type(info.value) is error
    assert str(info.value) == f"payload.messages[{at}]{detail}"


@given(
    msgs=st.lists(messages, min_size=1, max_size=3),
    at=st.integers(0, 3),
    value=st.integers() | st.none() | texts,
)
def test_a_message_that_is_not_a_dict_is_named_by_its_index(msgs, at, value):
    at %= len(msgs)
    msgs[at] = value
    with pytest.raises(InvalidPayloadTypeError) as info:
        normalize_payload({"messages": msgs})
    assert str(info.value) == (
        f"payload.messages[{at}]: expected a message dict (role/content or type/content) "
        f"or a LangChain message, got {type(value).__name__}"
    )


BROKEN_PAYLOAD = {
    "not a dict": (
        st.lists(messages, max_size=2) | texts | st.integers() | st.none(),
        InvalidPayloadTypeError,
        lambda p, v: f": expected a dict like {{'messages': [...]}}, got {type(v).__name__}",
    ),
    "no messages": (
        st.dictionaries(texts.filter(lambda k: k != "messages"), json_values, max_size=3),
        InvalidPayloadError,
        lambda p, v: ": missing required field 'messages'",
    ),
    "messages not a list": (
        texts | st.binary(max_size=5) | st.integers() | st.none() | st.dictionaries(texts, texts),
        InvalidPayloadTypeError,
        lambda p, v: f".messages: expected a list of messages, got {type(v).__name__}",
    ),
    "messages empty": (
        st.sampled_from([[], ()]),
        InvalidPayloadError,
        lambda p, v: ".messages: must hold at least one message",
    ),
}


@pytest.mark.parametrize("breakage", BROKEN_PAYLOAD)
@given(payload=payloads, root=roots, data=st.data())
def test_a_bad_payload_is_refused_naming_the_root(breakage, payload, root, data):
    values, error, detail = BROKEN_PAYLOAD[breakage]
    value = data.draw(values)
    if breakage in ("not a dict", "no messages"):
        payload = value
    else:
        payload["messages"] = value
    with pytest.raises(InvalidPayloadError) as info:
        normalize_payload(payload, root)
    assert type(info.value) is error
    assert str(info.value) == root + detail(payload, value)


# --------------------------------------------------------------- run bodies

valid_after = st.integers(0, int(MAX_AFTER_SECONDS)) | st.floats(0, MAX_AFTER_SECONDS)
bad_after = (
    st.floats(max_value=-1e-9)
    | st.floats(min_value=MAX_AFTER_SECONDS, exclude_min=True)
    | st.sampled_from([math.nan, math.inf, -math.inf])
    | st.integers(max_value=-1)
    | st.integers(min_value=int(MAX_AFTER_SECONDS) + 1)
)
bad_after_type = (
    st.booleans() | texts | st.lists(st.integers(), max_size=2) | st.dictionaries(texts, texts)
)
runs = st.fixed_dictionaries(
    {"assistant_id": st.just("memory_manager")},
    optional={"input": st.none() | payloads, "after_seconds": st.none() | valid_after},
)


def _bad_input(run, draw):
    value = draw(st.integers() | st.floats() | st.booleans() | texts | st.lists(json_values))
    run["input"] = value
    return f"input: expected an object like {{'messages': [...]}}, got {type(value).__name__}"


def _bad_after(run, draw):
    value = draw(bad_after)
    run["after_seconds"] = value
    return f"after_seconds: expected a number from 0 to {MAX_AFTER_SECONDS:.0f}, got {value!r}"


def _bad_after_type(run, draw):
    value = draw(bad_after_type)
    run["after_seconds"] = value
    return f"after_seconds: expected a number of seconds, got {type(value).__name__}"


BROKEN_RUN = {
    "input": _bad_input,
    "after_seconds": _bad_after,
    "after_seconds type": _bad_after_type,
}


@given(st.lists(runs, min_size=1, max_size=3) | runs)
def test_a_valid_run_body_passes_the_server_check(body):
    event("batch" if isinstance(body, list) else "one run")
    assert run_request_error(body) is None


@pytest.mark.parametrize("breakage", BROKEN_RUN)
@given(
    body=st.lists(runs, min_size=1, max_size=3),
    at=st.integers(0, 2),
    batch=st.booleans(),
    data=st.data(),
)
def test_a_run_body_with_one_bad_field_is_refused_naming_it(breakage, body, at, batch, data):
    at %= len(body)
    detail = BROKEN_RUN[breakage](body[at], data.draw)
    if batch:
        assert run_request_error(body) == f"[{at}].{detail}"
    else:
        assert run_request_error(body[at]) == detail


@given(json_values)
def test_the_server_check_never_crashes_on_any_body(body: Any):
    error = run_request_error(body)
    assert error is None or "after_seconds" in error or "input" in error


# -------------------------------------------------------------- after_seconds


@given(valid_after | bad_after | bad_after_type)
@example(0)
@example(MAX_AFTER_SECONDS)
@example(True)
def test_after_seconds_is_checked_the_same_on_both_sides(value):
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and 0 <= value <= MAX_AFTER_SECONDS
    )
    event("valid" if ok else "refused")
    server = run_request_error({"assistant_id": "memory_manager", "after_seconds": value})
    if ok:
        assert validate_after_seconds(value) == float(value)
        assert type(validate_after_seconds(value)) is float
        assert server is None
    else:
        with pytest.raises(InvalidPayloadError) as info:
            validate_after_seconds(value)
        assert str(info.value).startswith("after_seconds: expected a number")
        assert server == str(info.value)


# ----------------------------------------------------------------- namespaces


@given(st.lists(st.text(max_size=10), max_size=5))
def test_a_namespace_is_accepted_iff_every_label_is_non_empty_and_undotted(raw):
    ok = bool(raw) and all(label and "." not in label for label in raw)
    event("valid" if ok else "refused")
    if ok:
        assert validate_namespace(raw) == tuple(raw)
    else:
        with pytest.raises(InvalidPayloadError, match="^namespace"):
            validate_namespace(raw)


@given(
    labels, labels.filter(lambda s: "{" not in s and "}" not in s), texts | texts.map("{}.".format)
)
@example("p", "s", "")
def test_templating_fills_placeholders_and_refuses_what_would_be_a_bad_label(prefix, suffix, value):
    prefix = prefix.replace("{", "").replace("}", "") or "p"
    template = ("memories", f"{prefix}{{user_id}}{suffix}")
    if value == "":
        event("empty value")
        with pytest.raises(InvalidPayloadError, match="^ns: no value for placeholder.s. user_id"):
            resolve_namespace(template, {"user_id": value}, "ns")
    elif "." in value:
        event("dotted value")
        with pytest.raises(InvalidPayloadError, match=r"^ns\[1\]: label .* must not contain"):
            resolve_namespace(template, {"user_id": value}, "ns")
    else:
        event("filled")
        assert resolve_namespace(template, {"user_id": value}) == (
            "memories",
            f"{prefix}{value}{suffix}",
        )


@given(st.lists(labels, min_size=1, max_size=3))
def test_a_missing_placeholder_is_named_never_shared(base):
    base = [label.replace("{", "").replace("}", "") or "x" for label in base]
    with pytest.raises(InvalidPayloadError, match="user_id"):
        resolve_namespace((*base, "{user_id}"), {})


@given(st.text(min_size=1).filter(str.strip))
def test_thread_keys_map_to_one_stable_uuid(key):
    tid = validate_thread_id(key)
    assert str(uuid.UUID(tid)) == tid == validate_thread_id(key)
