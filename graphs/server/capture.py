"""Server-side capture: a run's input is in the thread's inbox before the run exists.

``multitask_strategy="rollback"`` deletes a superseded run *and its input*.
Our executor protects its turns by writing them to the thread's inbox first,
but langmem's own executor, a plain ``runs.create`` from any SDK and a run
started in Studio do not. So the server does it for every run created on the
memory graph (``POST /threads/{id}/runs``, ``/runs/wait``, ``/runs/stream``):
:class:`graphs.server.guard.GuardRequests` calls :func:`plan_capture` with the
request, writes the entry through the in-process client (in the caller's own
store prefix when keys are on), lets the request through with the entry's
``submission_id`` added to the input (so ``gather`` does not process the input
twice), and deletes the entry again if the server does not create the run.

An input our executor already put in the inbox (its ``submission_id`` is an
inbox key) is left alone. The entry records how the run was created
(:class:`~sdk_client.records.RunSpec`), so the redeliverer
(:mod:`graphs.server.redelivery`) can run it again the same way if its run is lost.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from starlette.types import Message, Scope, Send

from graphs.memory_manager.context import default_namespace
from graphs.server import access
from sdk_client.contract import (
    GRAPH_ID,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
)
from sdk_client.records import (
    InboxEntry,
    RunSpec,
    inbox_entry,
    inbox_namespace,
    submission_record,
    user_prefix,
)

__all__ = [
    "Capture",
    "Capturer",
    "UndoOnFailure",
    "capture_request",
    "capture_thread",
    "plan_capture",
]


_THREAD_RUN = re.compile(r"^/threads/([^/]+)/runs(/wait|/stream)?/?$")


@dataclass(frozen=True)
class Capture:
    """One inbox entry to write before a run is created, and the request body to send on."""

    namespace: tuple[str, ...]
    key: str
    entry: InboxEntry
    body: dict[str, Any]
    supplied_id: bool
    """True when the caller sent the ``submission_id`` (it may already be in the inbox)."""


def capture_thread(method: str, path: str, body: Any) -> str | None:
    """The thread id of a run creation whose input should be captured, else None."""
    match = _THREAD_RUN.match(path) if method == "POST" else None
    if match is None or not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return None
    run_input = body["input"]
    if (run_input.get("redelivery") or run_input.get("consolidate")) and not run_input.get(
        "messages"
    ):
        return None  # a redelivery (the inbox) or a consolidation (the memories): no turns
    return match.group(1)


def plan_capture(
    thread_id: str, body: dict[str, Any], prefix: tuple[str, ...], now: float
) -> Capture:
    """The inbox entry for a run creation on ``thread_id`` (in store prefix ``prefix``).

    Raises:
        InvalidPayloadError: the input is not a payload the graph can process (the
            message names the field); the caller gets it as HTTP 422.
    """
    payload: dict[str, Any] = body["input"]
    messages = normalize_payload(payload, "input")
    given = payload.get("submission_id")
    sid = given if isinstance(given, str) and given else str(uuid.uuid4())
    after = body.get("after_seconds")
    after_seconds = validate_after_seconds(after) if after is not None else 0.0
    entry = inbox_entry(
        [submission_record(sid, messages, now, after_seconds)],
        _target_namespace(body),
        _run_spec(body),
    )
    return Capture(
        namespace=inbox_namespace(thread_id, prefix),
        key=sid,
        entry=entry,
        body={**body, "input": {**payload, "submission_id": sid}},
        supplied_id=given is not None,
    )


NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
"""``langgraph_api.graph.NAMESPACE_GRAPH``, copied: importing the server here is not free."""

_DEFAULT_ASSISTANTS = frozenset({GRAPH_ID, str(uuid.uuid5(NAMESPACE_GRAPH, GRAPH_ID))})
"""The graph's own assistant, by name and by the id the server gives it (Studio sends that)."""


def _target_namespace(body: Mapping[str, Any]) -> list[str] | None:
    """The namespace the run's turns are bound for, when the request alone says it.

    The run's own (context, else configurable), placeholders filled; else, on the graph's
    own assistant (it has no settings), the server's default. Bound at capture, the entry
    counts as waiting work for that namespace (the quiet job and consolidation hold back
    for it) and is processed there whichever run gathers it. A custom assistant's settings
    are not read here: its entry names none, and the run that processes it decides.
    """
    context = _dict(body.get("context"))
    configurable = _dict(_dict(body.get("config")).get("configurable"))
    template = context.get("namespace") or configurable.get("namespace")
    if not template:
        if str(body.get("assistant_id") or GRAPH_ID) not in _DEFAULT_ASSISTANTS:
            return None
        template = default_namespace()
    values = {**configurable, **context}
    return list(resolve_namespace(template, values, "context.namespace"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _run_spec(body: Mapping[str, Any]) -> RunSpec:
    spec: RunSpec = {"assistant_id": str(body.get("assistant_id") or GRAPH_ID)}
    if isinstance(body.get("config"), dict):
        spec["config"] = body["config"]
    if isinstance(body.get("context"), dict):
        spec["context"] = body["context"]
    return spec


class Capturer:
    """Writes captures straight into the server's store, at the prefixed namespace.

    Not through the in-process HTTP client: a request made while serving another
    inherits that caller's auth context, so the store handler would prefix the
    namespace a second time.
    """

    def __init__(self, client: LangGraphClient, store: Callable[[], Awaitable[BaseStore]]) -> None:
        self._client = client
        self._store = store
        self._graphs: dict[str, str | None] = {GRAPH_ID: GRAPH_ID}

    async def is_memory_graph(self, assistant_id: Any) -> bool:
        """True when ``assistant_id`` (graph id or assistant UUID) runs the memory graph."""
        if not isinstance(assistant_id, str) or not assistant_id.strip():
            return False  # the server answers a missing or blank id itself (422 or 404)
        if assistant_id not in self._graphs:
            try:  # as the caller: another user's assistant is not found, as on the API
                assistant = await self._client.assistants.get(assistant_id)
            except Exception:  # unknown or malformed: the server answers the request itself
                return False
            if not isinstance(assistant, Mapping):  # the in-process client's answer to ""
                return False
            # An assistant's graph never changes, so the answer can be kept.
            self._graphs[assistant_id] = str(assistant.get("graph_id"))
        return self._graphs[assistant_id] == GRAPH_ID

    async def write(self, capture: Capture) -> bool:
        """Write the entry; False when the caller's own client had written it already."""
        store = await self._store()
        if capture.supplied_id and await store.aget(capture.namespace, capture.key):
            return False
        await store.aput(capture.namespace, capture.key, dict(capture.entry), index=False)
        return True

    async def undo(self, capture: Capture) -> None:
        """Delete the entry of a run the server did not create."""
        await (await self._store()).adelete(capture.namespace, capture.key)


# The request side: GuardRequests (graphs.server.guard) hands a run creation here.


@functools.cache
def _capturer() -> Capturer:
    # Built on first use: get_client() finds the server app only once it exists.
    from langgraph_api.store import get_store  # type: ignore[import-untyped]

    return Capturer(get_client(), get_store)


async def capture_request(
    scope: Scope, send: Send, raw: bytes, thread_id: str, body: dict[str, Any]
) -> tuple[Scope, bytes, Send]:
    """Write a memory-graph run's input to the inbox first (:func:`plan_capture`).

    Returns the request to pass on: the body with the entry's ``submission_id``, and a
    ``send`` that deletes the entry again if the server does not create the run.
    """
    capturer = _capturer()
    prefix = _store_prefix(scope)
    if prefix is None or not await capturer.is_memory_graph(body.get("assistant_id")):
        return scope, raw, send
    capture = plan_capture(thread_id, body, prefix, time.time())
    raw = json.dumps(capture.body).encode()
    if not await capturer.write(capture):
        return _with_length(scope, len(raw)), raw, send
    return _with_length(scope, len(raw)), raw, UndoOnFailure(send, capturer, capture)


class UndoOnFailure:
    """A ``send`` that deletes a captured entry if the server answers with an error."""

    def __init__(self, send: Send, capturer: Capturer, capture: Capture) -> None:
        self._send = send
        self._capturer = capturer
        self._capture = capture
        self.started = False

    async def __call__(self, message: Message) -> None:
        """Pass ``message`` on; first undo the capture if it starts an error response."""
        if message["type"] == "http.response.start":
            self.started = True
            if message["status"] >= 400:
                await self._capturer.undo(self._capture)
        await self._send(message)

    async def failed(self) -> None:
        """The app raised before answering (an HTTP error handled further out): undo."""
        if not self.started:
            await self._capturer.undo(self._capture)


def _store_prefix(scope: Scope) -> tuple[str, ...] | None:
    """The caller's store prefix: ``()`` open, ``(identity,)`` keyed, None for the operator."""
    return user_prefix(getattr(scope.get("user"), "identity", None), access.ACCESS.identities)


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}
