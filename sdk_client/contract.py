"""The wire contract shared by the client executor and the deployed graph.

Both sides import this module, so a payload the client accepts is exactly a
payload the graph can process, and both compute the same message ids and
namespaces. It has no I/O and depends only on the standard library and its
errors (:mod:`sdk_client.errors`, a leaf): importing it loads nothing of
the client's executors.

What travels:

* **Payload**: ``{"messages": [...]}`` in OpenAI form (``role``/``content``),
  LangChain dict form (``type``/``content``) or LangChain message objects
  (serialised with ``model_dump``). :func:`normalize_payload` turns it into a
  list of :class:`Message`, each with a stable ``id``.
* **The thread's records** in the server's store (inbox entries, receipts, the
  delivery record): their own module, :mod:`sdk_client.records`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from sdk_client.errors import InvalidPayloadError, InvalidPayloadTypeError

__all__ = [
    "GRAPH_ID",
    "MAX_AFTER_SECONDS",
    "MAX_MESSAGE_CHARS",
    "META_PATH",
    "Message",
    "memory_text",
    "message_id",
    "namespace_placeholders",
    "normalize_message",
    "normalize_payload",
    "parse_namespace",
    "resolve_namespace",
    "validate_after_seconds",
    "validate_namespace",
    "validate_thread_id",
]

Role = Literal["user", "assistant", "system", "tool"]

GRAPH_ID = "memory_manager"
"""The memory graph's id (``langgraph.json``); the client's default reflector, the
server's capture, redelivery, sweeper and inspector all name it from here."""

META_PATH = "/reflect/meta"
"""The server route that says which of memory-reflect's features it has (capture, redelivery)."""

MAX_MESSAGE_CHARS = 100_000
"""Longest message content accepted, in characters; longer is refused, not truncated."""

MAX_AFTER_SECONDS = 30 * 24 * 3600.0
"""Longest quiet period accepted (30 days): a pending run holds its thread that long,
and far larger values overflow the server's clock arithmetic (HTTP 500 on ``langgraph dev``)."""

# LangChain message types and OpenAI roles, mapped onto the four roles we keep.
_ROLE_ALIASES: dict[str, Role] = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
}


class Message(TypedDict):
    """A message as the graph processes it."""

    id: str
    role: Role
    content: str


def message_id(role: str, content: str) -> str:
    """Return the stable id of a message that arrived without one.

    The id depends only on role and content, so a caller that resends the full
    history each time (memory-template style) produces the same ids, and the
    graph processes each message once.
    """
    digest = hashlib.sha256(f"{role}\x00{content}".encode()).hexdigest()
    return f"m-{digest[:32]}"


def _content_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for i, block in enumerate(content):
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping):
                text = block.get("text")
                if isinstance(text, str):
                    parts.append(text)
                # Non-text blocks (images, tool calls) carry nothing to remember as text.
            else:
                raise InvalidPayloadTypeError(
                    f"{where}.content[{i}]: expected a string or a content block dict, "
                    f"got {type(block).__name__}"
                )
        return "\n".join(p for p in parts if p)
    raise InvalidPayloadTypeError(
        f"{where}.content: expected a string or a list of content blocks, "
        f"got {type(content).__name__}"
    )


def _as_mapping(msg: Any, where: str) -> Mapping[str, Any]:
    if isinstance(msg, Mapping):
        return msg
    dump = getattr(msg, "model_dump", None)
    if callable(dump):  # LangChain message objects (pydantic models)
        dumped = dump()
        if isinstance(dumped, Mapping):
            return dumped
    raise InvalidPayloadTypeError(
        f"{where}: expected a message dict (role/content or type/content) or a "
        f"LangChain message, got {type(msg).__name__}"
    )


def normalize_message(msg: Any, where: str = "messages[0]") -> Message:
    """Validate one message and return it as a :class:`Message`.

    Raises:
        InvalidPayloadError: a field is missing or has a value we cannot use.
        InvalidPayloadTypeError: a field has the wrong type.
    """
    data = _as_mapping(msg, where)
    raw_role = data.get("role", data.get("type"))
    if raw_role is None:
        raise InvalidPayloadError(f"{where}: message has neither 'role' nor 'type'")
    if not isinstance(raw_role, str):
        raise InvalidPayloadTypeError(
            f"{where}.role: expected a string, got {type(raw_role).__name__}"
        )
    role = _ROLE_ALIASES.get(raw_role.lower())
    if role is None:
        known = ", ".join(sorted(_ROLE_ALIASES))
        raise InvalidPayloadError(
            f"{where}.role: unknown role {raw_role!r}; expected one of {known}"
        )
    if "content" not in data:
        raise InvalidPayloadError(f"{where}: message has no 'content'")
    content = _content_text(data["content"], where)
    if len(content) > MAX_MESSAGE_CHARS:
        raise InvalidPayloadError(
            f"{where}.content: {len(content)} characters, more than the {MAX_MESSAGE_CHARS} allowed"
        )
    raw_id = data.get("id")
    if raw_id is not None and not isinstance(raw_id, str):
        raise InvalidPayloadTypeError(f"{where}.id: expected a string, got {type(raw_id).__name__}")
    mid = raw_id if raw_id else message_id(role, content)
    return {"id": mid, "role": role, "content": content}


def normalize_payload(payload: Any, root: str = "payload") -> list[Message]:
    """Validate a submission payload and return its messages, ids filled in.

    ``root`` names the payload in error messages (``"input"`` on the server).

    Raises:
        InvalidPayloadError: ``messages`` is missing or empty, or a message is malformed.
        InvalidPayloadTypeError: the payload or ``messages`` has the wrong type.
    """
    if not isinstance(payload, Mapping):
        raise InvalidPayloadTypeError(
            f"{root}: expected a dict like {{'messages': [...]}}, got {type(payload).__name__}"
        )
    if "messages" not in payload:
        raise InvalidPayloadError(f"{root}: missing required field 'messages'")
    messages = payload["messages"]
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidPayloadTypeError(
            f"{root}.messages: expected a list of messages, got {type(messages).__name__}"
        )
    if not messages:
        raise InvalidPayloadError(f"{root}.messages: must hold at least one message")
    return [normalize_message(m, f"{root}.messages[{i}]") for i, m in enumerate(messages)]


def memory_text(value: Mapping[str, Any]) -> str:
    """A stored memory's readable text: langmem's ``content.content``, else its content as JSON.

    One reading for everything that shows memories (the CLI, the runs' change texts).
    """
    content = value.get("content", value)
    if isinstance(content, Mapping) and set(content) == {"content"}:
        content = content["content"]
    return content if isinstance(content, str) else json.dumps(content, sort_keys=True)


def validate_namespace(namespace: Any, field: str = "namespace") -> tuple[str, ...]:
    """Return ``namespace`` as a tuple of labels, or raise naming what is wrong.

    A bare string is a one-label namespace. Labels must be non-empty strings
    without ``.`` (the store uses dots as its path separator).
    """
    if isinstance(namespace, str):
        namespace = (namespace,)
    if not isinstance(namespace, Sequence):
        raise InvalidPayloadTypeError(
            f"{field}: expected a string or a sequence of strings, got {type(namespace).__name__}"
        )
    labels = tuple(namespace)
    if not labels:
        raise InvalidPayloadError(f"{field}: must have at least one label")
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise InvalidPayloadTypeError(
                f"{field}[{i}]: expected a string, got {type(label).__name__}"
            )
        if not label:
            raise InvalidPayloadError(f"{field}[{i}]: labels must not be empty")
        if "." in label:
            raise InvalidPayloadError(f"{field}[{i}]: label {label!r} must not contain '.'")
    return labels


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def namespace_placeholders(namespace: Iterable[str]) -> list[str]:
    """Return the ``{placeholder}`` names used in a namespace template, in order."""
    return list(_placeholders(tuple(namespace)))


@functools.lru_cache(maxsize=1024)
def _placeholders(labels: tuple[str, ...]) -> list[str]:
    # Cached: submit() resolves the executor's one template on every call.
    names: list[str] = []
    for label in labels:
        for name in _PLACEHOLDER.findall(label):
            if name not in names:
                names.append(name)
    return names


def resolve_namespace(
    template: Any, values: Mapping[str, Any], field: str = "namespace"
) -> tuple[str, ...]:
    """Fill ``{placeholders}`` in a namespace template from ``values``.

    ``("memories", "{user_id}")`` with ``{"user_id": "alice"}`` gives
    ``("memories", "alice")``. A missing placeholder is an error that names
    it, never a silently shared namespace.
    """
    labels = validate_namespace(template, field)
    bad = [n for n in namespace_placeholders(labels) if not n.isidentifier()]
    if bad:
        raise InvalidPayloadError(
            f"{field}: placeholder(s) {', '.join(repr('{' + n + '}') for n in bad)} in "
            f"{list(labels)} must be names like {{user_id}}"
        )
    missing = [n for n in namespace_placeholders(labels) if values.get(n) in (None, "")]
    if missing:
        raise InvalidPayloadError(
            f"{field}: no value for placeholder(s) {', '.join(missing)} in {list(labels)}; "
            "pass them in config['configurable'] (e.g. config={'configurable': "
            f"{{'{missing[0]}': ...}}}})"
        )
    filled = tuple(
        label.format_map({n: str(values[n]) for n in namespace_placeholders([label])})
        for label in labels
    )
    return validate_namespace(filled, field)


_THREAD_NAMESPACE = uuid.UUID("6f1c2d3e-8a4b-5c6d-9e0f-a1b2c3d4e5f6")


def parse_namespace(text: str, field: str = "namespace", separator: str = "/") -> tuple[str, ...]:
    """Read a namespace a person typed: labels joined by ``separator``, or a JSON list.

    ``memories/alice`` (the CLI and the inspector, as memory paths print),
    ``memories,{user_id}`` (``MEMORY_NAMESPACE``, ``separator=","``), or
    ``["memories", "a/b"]`` for labels that contain the separator.

    Raises:
        InvalidPayloadError: not JSON, empty, or a label the store refuses (named).
    """
    text = text.strip()
    if text.startswith("["):
        try:
            labels: Any = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidPayloadError(f"{field}: not a JSON list of labels ({err.msg})") from None
    else:
        labels = [part.strip() for part in text.split(separator)] if text else []
    return validate_namespace(labels, field)


def validate_thread_id(
    thread_id: Any, field: str = "thread_id", *, api_key: str | None = None
) -> str:
    """Return the server thread id (a UUID string) for ``thread_id``.

    LangGraph servers name threads by UUID. A UUID (or its string) is used as
    is; any other non-empty string, such as ``"alice-chat-1"``, maps to a stable
    UUIDv5, so the same key always reaches the same thread.

    With an ``api_key`` (a keyed server), the key is mixed in through an HMAC:
    the same conversation key gives each API key its own thread, and nobody
    without the key can compute, pre-create or probe that thread's id. Rotating
    the key therefore starts new threads for the same conversation keys.
    """
    if isinstance(thread_id, uuid.UUID):
        return str(thread_id)
    if not isinstance(thread_id, str):
        raise InvalidPayloadTypeError(
            f"{field}: expected a string or uuid.UUID, got {type(thread_id).__name__}"
        )
    if not thread_id.strip():
        raise InvalidPayloadError(f"{field}: must not be empty")
    return _thread_uuid(thread_id, api_key or "")


@functools.lru_cache(maxsize=4096)
def _thread_uuid(thread_id: str, api_key: str) -> str:
    # Cached: the same few conversation keys come back on every submit().
    try:
        return str(uuid.UUID(thread_id))
    except ValueError:
        pass
    if not api_key:
        return str(uuid.uuid5(_THREAD_NAMESPACE, thread_id))
    digest = hmac.new(api_key.encode(), thread_id.encode(), hashlib.sha256).hexdigest()
    return str(uuid.uuid5(_THREAD_NAMESPACE, "keyed:" + digest))


def validate_after_seconds(after_seconds: Any) -> float:
    """Return ``after_seconds`` as a float from 0 to :data:`MAX_AFTER_SECONDS`.

    The client checks it before sending, and the server's request check
    (``graphs/server/app.py``) checks runs created over HTTP by anyone.
    """
    if isinstance(after_seconds, bool) or not isinstance(after_seconds, (int, float)):
        raise InvalidPayloadTypeError(
            f"after_seconds: expected a number of seconds, got {type(after_seconds).__name__}"
        )
    if not math.isfinite(after_seconds) or not 0 <= after_seconds <= MAX_AFTER_SECONDS:
        raise InvalidPayloadError(
            f"after_seconds: expected a number from 0 to {MAX_AFTER_SECONDS:.0f}, "
            f"got {after_seconds!r}"
        )
    return float(after_seconds)
