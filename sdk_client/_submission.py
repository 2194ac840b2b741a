"""What ``submit()`` builds, before any I/O: a validated submission, then the requests for it.

The thread comes from the argument, the config or the LangGraph context, in
that order; everything is validated in the caller's thread, so a bad payload
raises there. A sender later coalesces a thread's queued submissions into as
few inbox writes and runs as it can (:func:`coalesce`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

from sdk_client.contract import (
    Message,
    namespace_placeholders,
    normalize_payload,
    resolve_namespace,
    validate_after_seconds,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import InboxEntry, SubmissionRecord, inbox_entry, submission_record

__all__ = [
    "NOT_GIVEN",
    "Request",
    "Submission",
    "SubmissionBuilder",
    "ambient_config",
    "build_submission",
    "coalesce",
    "new_submission_id",
    "resolve_thread_id",
]


class _NotGiven:
    """Sentinel type: an argument that was not passed (distinct from ``None``)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


_get_config: Callable[[], Mapping[str, Any]] | None
try:  # imported once here, not on the first submit(): importing langgraph takes ~0.3 s
    from langgraph.config import get_config as _get_config
except ImportError:  # the client does not require langgraph
    _get_config = None


def ambient_config() -> Mapping[str, Any] | None:
    """The LangGraph config of the node/entrypoint we are called from, if any."""
    if _get_config is None:
        return None
    try:
        return _get_config()
    except RuntimeError:
        return None


@overload
def resolve_thread_id(
    thread_id: Any,
    config: Mapping[str, Any] | None,
    api_key: str | None = None,
    *,
    missing_ok: Literal[False] = False,
) -> str: ...
@overload
def resolve_thread_id(
    thread_id: Any,
    config: Mapping[str, Any] | None,
    api_key: str | None = None,
    *,
    missing_ok: bool,
) -> str | None: ...
def resolve_thread_id(
    thread_id: Any,
    config: Mapping[str, Any] | None,
    api_key: str | None = None,
    *,
    missing_ok: bool = False,
) -> str | None:
    """Pick the thread for a submission: ``thread_id`` > ``config`` > the LangGraph context.

    Raises:
        InvalidPayloadError: a thread is malformed, or none of the three names one
            (unless ``missing_ok``: then None).
    """
    if thread_id is not NOT_GIVEN and thread_id is not None:
        return validate_thread_id(thread_id, api_key=api_key)
    for source in (config, ambient_config()):
        configurable = (source or {}).get("configurable") or {}
        if configurable.get("thread_id"):
            return validate_thread_id(
                configurable["thread_id"], "config.configurable.thread_id", api_key=api_key
            )
    if missing_ok:
        return None
    raise InvalidPayloadError(
        "thread_id: no thread to submit to. Pass thread_id=... (any string or UUID; one per "
        "conversation), or config={'configurable': {'thread_id': ...}}, or call submit() "
        "inside a LangGraph node or entrypoint"
    )


@dataclass(frozen=True)
class Submission:
    """One validated submission, ready for the sender."""

    submission_id: str
    thread_id: str
    namespace: tuple[str, ...]
    messages: list[Message]
    submitted_at: float
    after_seconds: float

    @property
    def due_at(self) -> float:
        """When its run should start, by the caller's clock."""
        return self.submitted_at + self.after_seconds

    def record(self) -> SubmissionRecord:
        """The submission as the inbox stores it."""
        return submission_record(
            self.submission_id, self.messages, self.submitted_at, self.after_seconds
        )


class SubmissionBuilder:
    """Builds one executor's submissions; what does not change between calls is resolved once.

    ``submit()`` holds its caller while this runs, so the namespace template is
    validated here, once, and a template without placeholders is the namespace
    of every submission; each call still validates its payload, delay, thread
    and (with placeholders) its filled-in namespace.

    Args:
        namespace_template: The executor's namespace template.
        api_key: The key requests are sent with (maps conversation keys to threads).
    """

    def __init__(self, namespace_template: Sequence[str], api_key: str | None = None) -> None:
        self._template = validate_namespace(namespace_template)
        self._fixed = None if namespace_placeholders(self._template) else self._template
        self._api_key = api_key

    def build(
        self, payload: Any, config: Mapping[str, Any] | None, after_seconds: Any, thread_id: Any
    ) -> Submission:
        """Validate everything about a submission before anything is sent.

        Raises:
            InvalidPayloadError: a field is missing or malformed (the message names it).
        """
        messages = normalize_payload(payload)
        delay = validate_after_seconds(after_seconds)
        tid = resolve_thread_id(thread_id, config, self._api_key)
        return Submission(
            submission_id=new_submission_id(),
            thread_id=tid,
            namespace=self._fixed or self._namespace(config),
            messages=messages,
            submitted_at=time.time(),
            after_seconds=delay,
        )

    def _namespace(self, config: Mapping[str, Any] | None) -> tuple[str, ...]:
        """The template filled from ``config`` (or the LangGraph context)."""
        values = (config or ambient_config() or {}).get("configurable") or {}
        return resolve_namespace(self._template, values)


# uuid4's variant bits (10xx): the 17th hex digit is one of 8, 9, a, b.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def new_submission_id() -> str:
    """A random UUID (version 4) as a string, like ``str(uuid.uuid4())``.

    Built from the random bytes directly: making a ``uuid.UUID`` first costs
    several µs on every ``submit()``.
    """
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def build_submission(
    payload: Any,
    namespace_template: Sequence[str],
    *,
    config: Mapping[str, Any] | None,
    after_seconds: Any,
    thread_id: Any,
    api_key: str | None = None,
) -> Submission:
    """One submission, validated (see :meth:`SubmissionBuilder.build`)."""
    builder = SubmissionBuilder(namespace_template, api_key)
    return builder.build(payload, config, after_seconds, thread_id)


@dataclass(frozen=True)
class Request:
    """What the sender sends for a group of one thread's queued submissions."""

    thread_id: str
    inbox_key: str
    inbox_entry: InboxEntry
    run_input: dict[str, Any]
    run_config: dict[str, Any]
    after_seconds: float


def coalesce(group: Sequence[Submission], now: float) -> list[Request]:
    """Turn one thread's queued submissions (oldest first) into requests.

    Submissions with the same namespace become one inbox entry and one run:
    the newest submission's run would supersede the others' anyway. The run
    falls due when the newest submission asked, measured from when it was
    submitted, not from when the sender got to it.
    """
    requests: list[Request] = []
    start = 0
    for i in range(1, len(group) + 1):
        if i == len(group) or group[i].namespace != group[start].namespace:
            requests.append(_request(group[start:i], now))
            start = i
    return requests


def _request(subs: Sequence[Submission], now: float) -> Request:
    newest = subs[-1]
    remaining = round(max(0.0, newest.due_at - now), 3)
    return Request(
        thread_id=newest.thread_id,
        # The id the run's input carries (see records.inbox_entry).
        inbox_key=newest.submission_id,
        inbox_entry=inbox_entry([s.record() for s in subs], newest.namespace),
        run_input={"messages": newest.messages, "submission_id": newest.submission_id},
        run_config={
            "configurable": {"thread_id": newest.thread_id, "namespace": list(newest.namespace)}
        },
        after_seconds=remaining,
    )
