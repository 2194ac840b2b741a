"""Backfill: the conversations an agent already had into memories.

``memory-reflect backfill`` is this module, in three parts:

* **read**, one reader per source, each giving conversations and the bad input it set
  aside (:class:`BadLine`, never fatal for the rest):

  - a JSON Lines file (:func:`read_conversations`): one conversation a line,
    ``{"thread_id", "user_id", "messages", "namespace"?}``, each checked as a
    submission is; a bad line is kept with its number;
  - the threads of a LangGraph deployment (:func:`search_threads`, then
    :func:`read_threads`): a graph's threads, their messages from the state's
    ``values["messages"]``, their user from a metadata key the caller names; a bad
    thread is kept with its id.
* **plan** (:class:`Plan`): what is left to do once the conversations the server's
  record says are done are set aside; the runs, users and (LLM path) tokens it takes.
  No I/O: ``--dry-run`` prints it.
* **run** (:class:`Backfill`): each conversation's messages submitted through a
  :class:`~sdk_client.ReflectionExecutor` (``after_seconds=0``), in chunks one after
  the other, at most ``concurrency`` conversations (so runs) in flight; once its runs
  have committed, the conversation's record is written to the backfill's record in
  the server's store (:func:`sdk_client.records.backfill_namespace`).

Why running it again is safe: a conversation whose record is written is skipped, so a
second run of the same file creates no run at all; one that was in flight when the
process died has no record and is sent again, and its messages' stable ids (the
contract's) make the graph skip what a run already processed, so nothing is extracted
twice. The record lives on the server, keyed by the file's content hash
(:func:`backfill_id`) or by the source deployment and graph (:func:`server_backfill_id`),
so another machine with the same source resumes it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk.client import SyncLangGraphClient

from sdk_client._flows import Call, Flow, Flows, run_sync
from sdk_client.contract import (
    Message,
    namespace_placeholders,
    normalize_payload,
    parse_namespace,
    resolve_namespace,
    validate_namespace,
)
from sdk_client.errors import (
    InvalidPayloadError,
    InvalidPayloadTypeError,
    NotAcceptedError,
    SubmissionError,
)
from sdk_client.executor import ReflectionExecutor
from sdk_client.records import (
    BACKFILL_SUMMARY_KEY,
    RUNS_PAGE,
    backfill_conversation,
    backfill_done_keys,
    backfill_namespace,
    backfill_summary,
    paged,
)
from sdk_client.types import SubmissionResult

__all__ = [
    "CHARS_PER_TOKEN",
    "COMPLETION_TOKENS_PER_RUN",
    "COMPLETION_TOKENS_PER_USER_MESSAGE",
    "DEFAULT_TEMPLATE",
    "MAX_CHUNK_CHARS",
    "MAX_CHUNK_MESSAGES",
    "PROMPT_TOKENS_PER_RUN",
    "Backfill",
    "BadLine",
    "Conversation",
    "Estimate",
    "Outcome",
    "Plan",
    "Tally",
    "backfill_id",
    "conversation_key",
    "parse_line",
    "read_conversations",
    "read_threads",
    "search_threads",
    "server_backfill_id",
    "thread_conversation",
]

DEFAULT_TEMPLATE = ("memories", "{user_id}")
"""Where a line without ``namespace`` goes: one namespace per user, as the README's executor."""

MAX_CHUNK_MESSAGES = 50
"""Most messages one run is given: a long conversation becomes several runs, one after the other
(a model's prompt stays bounded, and a failure costs one chunk, not the conversation)."""

MAX_CHUNK_CHARS = 200_000
"""Most characters of content one run is given (the server refuses bodies over 4 MiB)."""

# The token estimate (LLM path). A run's prompt is a fixed part (instructions, langmem's
# scaffolding and tool schemas, up to `query_limit` existing memories) plus the messages;
# docs/benchmarks.md recorded 1,127 prompt and 155 completion tokens for a burst of five
# one-sentence turns (454 by characters/4), which these round up from.
CHARS_PER_TOKEN = 4
"""Characters per token of message content (English prose; other languages use more tokens)."""
PROMPT_TOKENS_PER_RUN = 1000
"""The fixed part of each run's prompt, in tokens."""
COMPLETION_TOKENS_PER_RUN = 20
"""The model's answer when it writes nothing."""
COMPLETION_TOKENS_PER_USER_MESSAGE = 30
"""About one memory written per user message, as a tool call."""


# ------------------------------------------------------------------------ read


@dataclass(frozen=True)
class Conversation:
    """One conversation (a file's line, a server's thread), checked: what it submits, where."""

    line: int
    """Its line in the file; a server's thread: its position in the listing (1-based)."""
    thread: str
    """The conversation key (``thread_id`` as the file gives it; the executor maps it)."""
    user_id: str | None
    namespace: tuple[str, ...]
    messages: tuple[Message, ...]
    key: str
    """Its record's key: :func:`conversation_key`."""
    origin: str | None = None
    """The source thread's id when it was read from a server (None: a file's line)."""

    @property
    def where(self) -> str:
        """Where it came from, for a failure's report: its line and key, or its thread."""
        if self.origin is None:
            return f"line {self.line} (thread {self.thread})"
        return f"thread {self.origin}"

    @property
    def user(self) -> str:
        """Whose it is: the user id, else (a line naming only a namespace) the namespace."""
        return self.user_id if self.user_id is not None else "/".join(self.namespace)

    def chunks(
        self, max_messages: int = MAX_CHUNK_MESSAGES, max_chars: int = MAX_CHUNK_CHARS
    ) -> list[list[Message]]:
        """The messages in runs' worth, in order; a chunk holds at least one message."""
        chunks: list[list[Message]] = []
        chunk: list[Message] = []
        chars = 0
        for msg in self.messages:
            size = len(msg["content"])
            if chunk and (len(chunk) >= max_messages or chars + size > max_chars):
                chunks.append(chunk)
                chunk, chars = [], 0
            chunk.append(msg)
            chars += size
        if chunk:
            chunks.append(chunk)
        return chunks


@dataclass(frozen=True)
class BadLine:
    """A line (or a server's thread) that is not a conversation we can submit, and why."""

    line: int
    error: str
    thread: str | None = None
    """The source thread's id when it was read from a server (``line``: its position)."""

    @property
    def where(self) -> str:
        """``line 3``, or ``thread <id>``."""
        return f"line {self.line}" if self.thread is None else f"thread {self.thread}"


def backfill_id(content: bytes) -> str:
    """The backfill of a file: its content's hash, so the same file resumes the same record."""
    return "bf-" + hashlib.sha256(content).hexdigest()[:24]


def conversation_key(thread: str, namespace: Sequence[str], message_ids: Sequence[str]) -> str:
    """A conversation's record key: a digest of its thread, namespace and message ids.

    A digest rather than the line number, so the record names no user (see
    :class:`~sdk_client.records.BackfillConversation`) and a line repeated elsewhere
    in the file is the same conversation.
    """
    text = json.dumps([thread, list(namespace), list(message_ids)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_line(text: str, line: int, template: Sequence[str] = DEFAULT_TEMPLATE) -> Conversation:
    """One line as a :class:`Conversation`.

    ``template``: the namespace of a line without one, ``{user_id}`` (and
    ``{thread_id}``) filled from the line.

    Raises:
        InvalidPayloadError: not JSON, or a field is missing or malformed (named).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidPayloadError(f"not valid JSON ({err.msg}, column {err.colno})") from None
    if not isinstance(data, dict):
        raise InvalidPayloadTypeError(
            f"expected an object {{thread_id, user_id, messages}}, got {type(data).__name__}"
        )
    thread = data.get("thread_id")
    if not isinstance(thread, str) or not thread.strip():
        raise InvalidPayloadError("thread_id: required, a non-empty string")
    user = data.get("user_id")
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise InvalidPayloadError("user_id: expected a non-empty string")
    messages = normalize_payload(data, "conversation")
    namespace = _namespace(data.get("namespace"), template, {"user_id": user, "thread_id": thread})
    ids = [m["id"] for m in messages]
    return Conversation(
        line=line,
        thread=thread,
        user_id=user,
        namespace=namespace,
        messages=tuple(messages),
        key=conversation_key(thread, namespace, ids),
    )


def _namespace(raw: Any, template: Sequence[str], values: Mapping[str, Any]) -> tuple[str, ...]:
    if raw is None:
        labels = validate_namespace(template, "--namespace")
    elif isinstance(raw, str):
        labels = parse_namespace(raw, "namespace")
    else:
        labels = validate_namespace(raw, "namespace")
    missing = [n for n in namespace_placeholders(labels) if values.get(n) in (None, "")]
    if missing:
        raise InvalidPayloadError(
            f"{missing[0]}: required to fill the namespace {'/'.join(labels)} (give the line "
            f"a {missing[0]!r} or a 'namespace', or --namespace without {{{missing[0]}}})"
        )
    return resolve_namespace(labels, values, "namespace")


def read_conversations(
    lines: Iterable[str], template: Sequence[str] = DEFAULT_TEMPLATE
) -> tuple[list[Conversation], list[BadLine]]:
    """Every line of a file: the conversations, and the lines that are not (blank lines skipped)."""
    good: list[Conversation] = []
    bad: list[BadLine] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            good.append(parse_line(text, number, template))
        except InvalidPayloadError as err:
            bad.append(BadLine(number, str(err)))
    return good, bad


# ------------------------------------------------------------- read: a server


def server_backfill_id(url: str, graph: str) -> str:
    """The backfill of a deployment's graph: a hash of the server's URL and the graph.

    Not of the threads' ids and checkpoints, as a file's is of its content: what a
    thread holds is already in its conversation's key (its messages' ids, see
    :func:`conversation_key`). Keyed by the source alone, the record outlives changes
    to the threads, so a thread that gained messages gets a new key and is sent again
    while every unchanged thread stays done; a digest of every checkpoint would start
    a fresh record whenever any thread moved, and send every thread again (no memory
    twice, the ids see to that, but a run per thread for nothing).
    """
    text = json.dumps(["server", url.rstrip("/"), graph])
    return "bf-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def search_threads(graph: str, page: int = RUNS_PAGE) -> Flow[list[dict[str, Any]]]:
    """Every thread of ``graph`` (the server's ``graph_id`` metadata), oldest first, paged.

    Oldest first so that a thread created while this reads lands on the last page
    rather than shifting the pages already read (offset paging).
    """
    found: list[dict[str, Any]] = yield from paged(
        lambda limit, offset: Call(
            "threads.search",
            (),
            {
                "metadata": {"graph_id": graph},
                "limit": limit,
                "offset": offset,
                "sort_by": "created_at",
                "sort_order": "asc",
            },
        ),
        page,
    )
    return found


def thread_conversation(
    thread: Mapping[str, Any],
    position: int,
    *,
    graph: str,
    user_key: str,
    template: Sequence[str] = DEFAULT_TEMPLATE,
) -> Conversation:
    """A deployment's thread (as ``threads.search`` gives it) as a :class:`Conversation`.

    Its messages are its state's ``values["messages"]`` (LangChain message dicts,
    ``type``/``content``/``id``, or OpenAI ``role``/``content``), checked as a
    submission is; its user is ``metadata[user_key]``, which fills ``{user_id}`` in
    ``template`` (``{thread_id}``: the thread's id).

    Its conversation key is ``<graph>/<thread id>``, not the thread id itself: a UUID
    key is used as the target's thread id as is, so a backfill into the same
    deployment would run on the agent's own thread; this key maps to a thread of its
    own, the same one on every run.

    Raises:
        InvalidPayloadError: no user under ``user_key``, no messages, or a malformed one.
    """
    thread_id = str(thread.get("thread_id") or "")
    if not thread_id:
        raise InvalidPayloadError("thread_id: missing from the server's answer")
    metadata = thread.get("metadata") or {}
    user = metadata.get(user_key) if isinstance(metadata, Mapping) else None
    if not isinstance(user, str) or not user.strip():
        found = "missing" if user is None else f"not a non-empty string ({user!r})"
        raise InvalidPayloadError(f"metadata.{user_key}: {found}; whose thread it is is unknown")
    values = thread.get("values")
    if not isinstance(values, Mapping) or not values.get("messages"):
        raise InvalidPayloadError("values.messages: the thread's state holds no messages")
    messages = normalize_payload(values, "values")
    namespace = _namespace(None, template, {"user_id": user, "thread_id": thread_id})
    key = f"{graph}/{thread_id}"
    return Conversation(
        line=position,
        thread=key,
        user_id=user,
        namespace=namespace,
        messages=tuple(messages),
        key=conversation_key(key, namespace, [m["id"] for m in messages]),
        origin=thread_id,
    )


def read_threads(
    threads: Iterable[Mapping[str, Any]],
    *,
    graph: str,
    user_key: str,
    template: Sequence[str] = DEFAULT_TEMPLATE,
) -> tuple[list[Conversation], list[BadLine]]:
    """Every thread: the conversations, and the threads that are not (with their ids)."""
    good: list[Conversation] = []
    bad: list[BadLine] = []
    for position, thread in enumerate(threads, start=1):
        try:
            good.append(
                thread_conversation(
                    thread, position, graph=graph, user_key=user_key, template=template
                )
            )
        except InvalidPayloadError as err:
            bad.append(BadLine(position, str(err), thread=str(thread.get("thread_id") or "?")))
    return good, bad


# ------------------------------------------------------------------------ plan


@dataclass(frozen=True)
class Estimate:
    """Tokens a model would be sent and answer (LLM path), by the module's simple rule.

    Per run: :data:`PROMPT_TOKENS_PER_RUN` + characters / :data:`CHARS_PER_TOKEN` of
    its messages in; :data:`COMPLETION_TOKENS_PER_RUN` +
    :data:`COMPLETION_TOKENS_PER_USER_MESSAGE` per user message out.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def of_run(cls, messages: Sequence[Message]) -> Estimate:
        """The estimate for one run given ``messages``."""
        chars = sum(len(m["content"]) for m in messages)
        users = sum(1 for m in messages if m["role"] == "user")
        return cls(
            PROMPT_TOKENS_PER_RUN + -(-chars // CHARS_PER_TOKEN),
            COMPLETION_TOKENS_PER_RUN + COMPLETION_TOKENS_PER_USER_MESSAGE * users,
        )

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def cost(self, per_1k_prompt: float | None, per_1k_completion: float | None) -> float | None:
        """The price at the given rates (per 1,000 tokens); None when no rate is given."""
        if per_1k_prompt is None and per_1k_completion is None:
            return None
        return (self.prompt_tokens * (per_1k_prompt or 0.0)) / 1000 + (
            self.completion_tokens * (per_1k_completion or 0.0)
        ) / 1000


@dataclass(frozen=True)
class Plan:
    """What a backfill of a source does, given what its record says is done."""

    conversations: Sequence[Conversation]
    bad: Sequence[BadLine] = ()
    done: frozenset[str] = frozenset()
    max_messages: int = MAX_CHUNK_MESSAGES
    max_chars: int = MAX_CHUNK_CHARS
    limit: int | None = None
    """Conversations to do in this run at most (the rest are left for the next)."""
    unit: str = "line"
    """What the source is made of, for the reports: ``line`` (a file) or ``thread`` (a server)."""

    @property
    def distinct(self) -> int:
        """Conversations in the source, a repeated one once."""
        return len({c.key for c in self.conversations})

    @property
    def done_before(self) -> int:
        """Conversations of the source the record says are done."""
        return len({c.key for c in self.conversations} & self.done)

    @property
    def pending(self) -> list[Conversation]:
        """Conversations not done yet, in the source's order; a repeated one once."""
        seen = set(self.done)
        pending = []
        for conv in self.conversations:
            if conv.key not in seen:
                seen.add(conv.key)
                pending.append(conv)
        return pending

    @property
    def todo(self) -> list[Conversation]:
        """What this run does: the pending conversations, the first ``limit`` of them."""
        pending = self.pending
        return pending if self.limit is None else pending[: self.limit]

    @property
    def later(self) -> int:
        """Pending conversations ``limit`` leaves for a later run."""
        return len(self.pending) - len(self.todo)

    def chunks(self, conv: Conversation) -> list[list[Message]]:
        """A conversation's runs' worth of messages, by this plan's bounds."""
        return conv.chunks(self.max_messages, self.max_chars)

    @property
    def runs(self) -> int:
        """Runs the conversations to do take (a run per chunk)."""
        return sum(len(self.chunks(c)) for c in self.todo)

    @property
    def messages(self) -> int:
        """Messages of the conversations to do."""
        return sum(len(c.messages) for c in self.todo)

    @property
    def users(self) -> list[str]:
        """Whose conversations are to do, sorted."""
        return sorted({c.user for c in self.todo})

    @property
    def namespaces(self) -> list[tuple[str, ...]]:
        """The memory namespaces the conversations to do write to, sorted."""
        return sorted({c.namespace for c in self.todo})

    def estimate(self) -> Estimate:
        """The LLM path's tokens for the conversations to do (:class:`Estimate`)."""
        total = Estimate()
        for conv in self.todo:
            for chunk in self.chunks(conv):
                total += Estimate.of_run(chunk)
        return total


# ------------------------------------------------------------------------- run


@dataclass
class Tally:
    """What a backfill has done so far; updated by its workers, read by the progress display."""

    conversations: int = 0
    failed: int = 0
    messages: int = 0
    runs: int = 0
    runs_failed: int = 0
    created: int = 0
    updated: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: list[tuple[Conversation, str]] = field(default_factory=list)
    _runs_seen: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run_done(self, result: SubmissionResult) -> None:
        """A chunk's run committed (its usage counted once per run: a run's Futures share it)."""
        with self._lock:
            if result.run_id in self._runs_seen:
                return
            self._runs_seen.add(result.run_id)
            self.runs += 1
            self.created += len(result.created)
            self.updated += len(result.updated)
            if result.usage is not None:
                self.prompt_tokens += result.usage.prompt_tokens
                self.completion_tokens += result.usage.completion_tokens

    def conversation_done(self, conv: Conversation) -> None:
        """Every run of ``conv`` committed and its record is written."""
        with self._lock:
            self.conversations += 1
            self.messages += len(conv.messages)

    def conversation_failed(self, conv: Conversation, why: str) -> None:
        """A run of ``conv`` failed or did not finish in time: it is not done."""
        with self._lock:
            self.failed += 1
            self.runs_failed += 1
            self.failures.append((conv, why))


@dataclass(frozen=True)
class Outcome:
    """How a backfill run ended."""

    tally: Tally
    interrupted: bool = False
    timed_out: int = 0
    """Conversations whose run did not finish within the timeout (the server goes on)."""


class _Stopped(Exception):
    """The backfill is stopping (Ctrl-C, or a fatal error in another worker)."""


def _fatal(err: NotAcceptedError) -> bool:
    """Whether no other conversation can be sent either: no server, or the key is refused."""
    cause = err.__cause__
    if isinstance(cause, httpx.TransportError):
        return True
    return isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code in (401, 403)


class Backfill:
    """Runs a plan's conversations against a server and records each one done.

    Args:
        client: A sync langgraph-sdk client for the record (the executors build their own).
        backfill: The backfill's id (:func:`backfill_id`).
        graph: The graph or assistant id runs are created on.
        url: The server.
        api_key: Sent as ``x-api-key`` (keyed servers): the record is the key's user's.
        concurrency: Conversations in flight at most, so runs at most (live traffic
            shares the server's workers with them).
        timeout: Seconds one run may take before its conversation counts as failed.
        poll_interval: How often the executor checks for processed submissions.
        clock: Epoch seconds, for the records.
    """

    def __init__(
        self,
        client: SyncLangGraphClient,
        backfill: str,
        *,
        graph: str,
        url: str,
        api_key: str | None,
        concurrency: int = 4,
        timeout: float = 300.0,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.id = backfill
        self.namespace = backfill_namespace(backfill)
        self._graph, self._url, self._api_key = graph, url, api_key
        self.concurrency = concurrency
        self._timeout = timeout
        self._poll = poll_interval
        self._clock = clock
        self._executors: dict[int, ReflectionExecutor] = {}
        self._written: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the record

    def done_keys(self) -> frozenset[str]:
        """The conversations this backfill's record says are done."""
        return frozenset(backfill_done_keys(run_sync(Flows.read_all(self.namespace), self.client)))

    def write_summary(self, source: str, plan: Plan, tally: Tally) -> None:
        """Rewrite the backfill's summary: conversations done over every run, failed in this one."""
        try:
            before = self.client.store.get_item(list(self.namespace), BACKFILL_SUMMARY_KEY)
        except httpx.HTTPStatusError as err:
            if err.response.status_code != 404:
                raise
            before = None
        with self._lock:
            done = len({c.key for c in plan.conversations} & (plan.done | self._written))
        value = backfill_summary(
            dict(before["value"]) if before else None,
            source,
            plan.distinct,
            len(plan.bad),
            done,
            tally.failed,
            self._clock(),
        )
        self.client.store.put_item(
            list(self.namespace), BACKFILL_SUMMARY_KEY, dict(value), index=False
        )

    def _record(self, conv: Conversation, results: Sequence[SubmissionResult]) -> None:
        value = backfill_conversation(
            conv.line,
            len(conv.messages),
            [r.run_id for r in results],
            sum(len(r.created) for r in results),
            sum(len(r.updated) for r in results),
            self._clock(),
        )
        # index=False: a record is found by its key, never by meaning (no embedding).
        self.client.store.put_item(list(self.namespace), conv.key, dict(value), index=False)
        with self._lock:
            self._written.add(conv.key)

    # ------------------------------------------------------------- the runs

    def _executor(self, labels: int) -> ReflectionExecutor:
        # One executor for every namespace of as many labels: its template is all
        # placeholders, filled per conversation, so each line may name its own namespace.
        with self._lock:
            if labels not in self._executors:
                self._executors[labels] = ReflectionExecutor(
                    self._graph,
                    tuple(f"{{l{i}}}" for i in range(labels)),
                    url=self._url,
                    api_key=self._api_key,
                    poll_interval=self._poll,
                    sender_threads=min(self.concurrency, 8),
                )
            return self._executors[labels]

    def _wait(self, fut: Any, stop: threading.Event) -> SubmissionResult:
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                result: SubmissionResult = fut.result(min(self._poll, 0.5))
                return result
            except TimeoutError:
                if stop.is_set():
                    raise _Stopped from None
                if time.monotonic() > deadline:
                    raise

    def _one(self, plan: Plan, conv: Conversation, tally: Tally, stop: threading.Event) -> bool:
        """Submit ``conv`` chunk by chunk, each once the previous committed; True when done."""
        if stop.is_set():
            raise _Stopped
        executor = self._executor(len(conv.namespace))
        config = {"configurable": {f"l{i}": label for i, label in enumerate(conv.namespace)}}
        results = []
        try:
            for chunk in plan.chunks(conv):
                fut = executor.submit(
                    {"messages": chunk}, config, after_seconds=0, thread_id=conv.thread
                )
                results.append(self._wait(fut, stop))
                tally.run_done(results[-1])
        except TimeoutError:
            tally.conversation_failed(
                conv, f"not processed within {self._timeout:g} s (the server goes on with it)"
            )
            return False
        except NotAcceptedError as err:
            if _fatal(err):
                stop.set()
                raise
            tally.conversation_failed(conv, str(err))
            return False
        except SubmissionError as err:
            tally.conversation_failed(conv, str(err))
            return False
        self._record(conv, results)
        tally.conversation_done(conv)
        return True

    def run(
        self,
        plan: Plan,
        todo: Sequence[Conversation] | None = None,
        tally: Tally | None = None,
        on_change: Callable[[Tally], None] | None = None,
    ) -> Outcome:
        """Backfill ``todo`` (default: the plan's), at most ``concurrency`` at a time.

        Ctrl-C stops it: nothing new is submitted, what is in flight is left to the
        server (accepted work is processed), and the next run resends the
        conversations not recorded done. ``on_change`` is called on this thread
        after each conversation.

        Raises:
            NotAcceptedError: the server is unreachable or refuses the key (nothing
                else could be sent either); the backfill stops.
        """
        tally = tally if tally is not None else Tally()
        stop = threading.Event()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="backfill")
        interrupted = False
        fatal: NotAcceptedError | None = None
        try:
            pending: set[Future[bool]] = set()
            for conv in plan.todo if todo is None else todo:
                pending.add(pool.submit(self._one, plan, conv, tally, stop))
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        fut.result()
                    except _Stopped:
                        continue
                    except NotAcceptedError as err:  # _one lets only a fatal one out
                        fatal = fatal or err
                        stop.set()  # the rest stop at once, unsent
                        continue
                    if on_change is not None:
                        on_change(tally)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self.close()
        if fatal is not None:
            raise fatal
        timed_out = sum(1 for _, why in tally.failures if why.startswith("not processed"))
        return Outcome(tally, interrupted=interrupted, timed_out=timed_out)

    def close(self) -> None:
        """Stop the executors (what they sent the server keeps; unsent work is dropped)."""
        with self._lock:
            executors, self._executors = list(self._executors.values()), {}
        for ex in executors:
            ex.shutdown(wait=True, cancel_futures=True)
