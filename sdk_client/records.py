"""The thread's records in the server's store, end to end: shapes, places, paging, lifecycle.

Everything that writes, reads, acknowledges, parks or prunes one of them goes through
this module: the client's flows and CLI, the server's capture, redelivery, sweeper and
inspector, the graph's ``gather`` and ``commit``. It does no I/O and imports only the
standard library, so the server and the graph use it without loading the client.

A thread has three kinds of record, each a store item (a store write survives run
rollback, which deletes a superseded run *and its input*):

=================  =========================================  ===================================
record             where (under the user's prefix)            lifecycle
=================  =========================================  ===================================
inbox entry        ``(INBOX_LABEL, thread)``, one a request   *written* when accepted (the
                   (key: the id the run's input carries)      client's ``send``, or the server's
                                                              capture); *read* by ``gather``;
                                                              *acknowledged* (deleted) by the
                                                              ``commit`` of the run that read it,
                                                              or by ``cancel``
receipt            ``(RECEIPTS_LABEL, thread)``, one a        *written* by ``commit``; *read*
                   processed submission (key: its id)         and deleted by the client waiting
                                                              on it; *pruned* by a later commit
                                                              (:data:`RECEIPT_MAX_AGE_S`) or with
                                                              the thread (the sweeper)
delivery record    ``(DELIVERY_LABEL, thread)``, key          *written* by the redeliverer (an
                   :data:`DELIVERY_KEY`                       attempt, or *parked*); deleted by
                                                              the next commit, by ``retry`` and
                                                              with the thread
=================  =========================================  ===================================

Beside them, per memory namespace rather than per thread (:data:`NAMESPACE_RECORD_LABELS`):

- a memory's **history**: one entry per change (created, updated, deleted, restored)
  under ``(HISTORY_LABEL, *memory namespace)``, written by ``commit`` in the same store
  batch as the change it records (and by an undo), kept :data:`DEFAULT_HISTORY_DAYS`
  unless configured;
- its **use records**: ``(USE_LABEL, *memory namespace)``, key the memory's key, when a
  search or get over the HTTP store API last returned it (the server's use recorder,
  ``graphs/server/uses.py``); read by forgetting's ``forget_unused_days``;
- its **activity**: ``(ACTIVITY_LABEL, *memory namespace)``, key :data:`EXTRACTED_KEY`
  (when an extraction last committed there, written by ``commit``) and
  :data:`CONSOLIDATION_KEY` (which quiet period the server's quiet job last
  consolidated, written by the job, ``graphs/server/quiet.py``).

And per backfill (``memory-reflect backfill``, :mod:`sdk_client.backfill`), its
**backfill record**: under ``(BACKFILL_LABEL, backfill id)``, one item per conversation
done (key: the conversation's digest) and one summary (:data:`BACKFILL_SUMMARY_KEY`),
written by the client once a conversation's runs have committed, read by the next run
of the same backfill to skip what is done, kept until erased with its user.

With API keys on, every namespace sits under its owner's identity
(:func:`user_prefix`): the server's auth adds it to a user's HTTP store requests, the
graph's runs add it themselves (``graphs/memory_manager/scoped.py``), and the server's
own jobs, which read through the unauthenticated loopback, add it here.
"""

from __future__ import annotations

import time
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, Literal, NotRequired, TypedDict, TypeVar

from sdk_client.contract import Message  # a leaf too: the standard library and its errors

__all__ = [
    "ACTIVITY_LABEL",
    "BACKFILL_LABEL",
    "BACKFILL_SUMMARY_KEY",
    "CONSOLIDATION_KEY",
    "DEFAULT_HISTORY_DAYS",
    "DELIVERY_KEY",
    "DELIVERY_LABEL",
    "EXTRACTED_KEY",
    "HISTORY_LABEL",
    "INBOX_LABEL",
    "NAMESPACE_RECORD_LABELS",
    "NOT_A_USE_HEADER",
    "RECEIPTS_LABEL",
    "RECEIPT_MAX_AGE_S",
    "RECORD_LABELS",
    "RUNS_PAGE",
    "STORE_PAGE",
    "USE_LABEL",
    "USE_SINCE_KEY",
    "BackfillConversation",
    "BackfillSummary",
    "ConsolidationAttempt",
    "DeliveryRecord",
    "ExtractionRecord",
    "HistoryEntry",
    "HistoryEvent",
    "InboxEntry",
    "Receipt",
    "RunSpec",
    "SubmissionRecord",
    "UsageRecord",
    "UseRecord",
    "activities_namespace",
    "activity_namespace",
    "backfill_conversation",
    "backfill_done_keys",
    "backfill_namespace",
    "backfill_summary",
    "consolidation_attempt",
    "delivery_namespace",
    "delivery_record",
    "entry_due",
    "entry_submitted_at",
    "expired_receipts",
    "extraction_record",
    "held_submissions",
    "history_entry",
    "history_key",
    "history_namespace",
    "history_ttl_minutes",
    "inbox_count",
    "inbox_entry",
    "inbox_namespace",
    "inboxes_namespace",
    "is_memory_namespace",
    "newest_run_spec",
    "owner_prefix",
    "paged",
    "read_pages",
    "receipt",
    "receipts_namespace",
    "store_prefixes",
    "submission_record",
    "thread_of_inbox",
    "thread_records",
    "use_namespace",
    "use_record",
    "user_prefix",
]

INBOX_LABEL = "reflection_inbox"
"""First label of a thread's inbox namespace (accepted, not yet processed submissions)."""

RECEIPTS_LABEL = "reflection_receipts"
"""First label of a thread's receipts namespace (which run processed which submission)."""

DELIVERY_LABEL = "reflection_delivery"
"""First label of a thread's delivery record namespace (redelivery attempts, parking)."""

DELIVERY_KEY = "state"
"""Key of the one delivery record under :func:`delivery_namespace`."""

HISTORY_LABEL = "reflection_history"
"""First label of a memory namespace's history (every change to its memories)."""

BACKFILL_LABEL = "reflection_backfill"
"""First label of a backfill's record (the conversations it has done, and its summary)."""

BACKFILL_SUMMARY_KEY = "summary"
"""Key of a backfill's summary item; conversations' keys are hex digests, never this."""

USE_LABEL = "reflection_use"
"""First label of a memory namespace's use records (when each memory was last read)."""

USE_SINCE_KEY = "tracked_since"
"""Key, in ``(USE_LABEL,)`` inside the user's prefix, of when forgetting began counting
disuse for that user (before it, reads were not known to be recorded)."""

ACTIVITY_LABEL = "reflection_activity"
"""First label of a memory namespace's activity records (last extraction, last consolidation)."""

EXTRACTED_KEY = "extracted"
"""Key of the activity record a committing extraction run writes."""

CONSOLIDATION_KEY = "consolidation"
"""Key of the activity record the quiet job writes when it starts a consolidation."""

NAMESPACE_RECORD_LABELS = (HISTORY_LABEL, USE_LABEL, ACTIVITY_LABEL)
"""The labels of the records kept per memory namespace: ``(label, *memory namespace)``.

What erasing a namespace erases with it.
"""

RECORD_LABELS = frozenset(
    {INBOX_LABEL, RECEIPTS_LABEL, DELIVERY_LABEL, BACKFILL_LABEL, *NAMESPACE_RECORD_LABELS}
)
"""Every record's first label: a namespace starting with one holds no memories."""

NOT_A_USE_HEADER = "x-memory-reflect-not-a-use"
"""A store read carrying this header is not the agent's use of what it returns (erasure's)."""

DEFAULT_HISTORY_DAYS = 90.0
"""How long a history entry is kept by default (``MEMORY_HISTORY_DAYS``; 0 keeps it for ever)."""

RECEIPT_MAX_AGE_S = 24 * 3600
"""Receipts older than this are pruned when a later run on the thread commits."""

STORE_PAGE = 500
"""Items asked for in one store search when reading all of something."""

RUNS_PAGE = 100
"""Runs or threads asked for in one listing; also the receipts one commit prunes at most."""

T = TypeVar("T")
R = TypeVar("R")


# ------------------------------------------------------------------------ shapes


class SubmissionRecord(TypedDict):
    """One submission inside an inbox entry."""

    submission_id: str
    messages: list[Message]
    submitted_at: float
    after_seconds: float


class RunSpec(TypedDict, total=False):
    """How the run that brought an entry was created; a redelivery run is created the same way."""

    assistant_id: str
    config: dict[str, Any]
    context: dict[str, Any]


class InboxEntry(TypedDict):
    """The value of an inbox item: one or more submissions sent in one request.

    ``namespace`` is None when the server captured a run that named none: the
    run that processes the entry uses its own. ``run`` is set by the server's
    capture (``graphs/server/capture.py``).
    """

    namespace: list[str] | None
    submissions: list[SubmissionRecord]
    run: NotRequired[RunSpec]


class UsageRecord(TypedDict):
    """What a run spent on the chat model, as the provider reported it (zeros offline)."""

    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    model_seconds: float


class Receipt(TypedDict):
    """The value of a receipt item: proof that a run processed a submission."""

    submission_id: str
    run_id: str
    processed_at: float
    message_ids: list[str]
    created: list[str]
    updated: list[str]
    deleted: list[str]
    # The whole run's usage, shared by every submission it processed (older servers omit it).
    usage: NotRequired[UsageRecord]


class DeliveryRecord(TypedDict):
    """A thread whose accepted work has no run to process it: the server's redelivery state."""

    attempts: int
    max_attempts: int
    next_at: float | None
    parked: bool
    last_error: str
    last_run_id: str | None
    updated_at: float


HistoryEvent = Literal["created", "updated", "deleted", "restored"]


class HistoryEntry(TypedDict):
    """One change to one memory: what it was before and after, when, and what caused it."""

    namespace: list[str]
    """The memory's namespace (inside the user's prefix)."""
    key: str
    """The memory's key in that namespace."""
    event: HistoryEvent
    at: float
    """When the change was written (epoch seconds)."""
    run_id: str | None
    """The run that wrote it (None: an undo through the store API)."""
    thread_id: str | None
    """The conversation (thread) whose run wrote it (None: not a run's change)."""
    submission_ids: list[str]
    """The submissions whose messages led to it (none for an undo)."""
    message_ids: list[str]
    before: dict[str, Any] | None
    """The memory's value before (None: it did not exist)."""
    after: dict[str, Any] | None
    """The memory's value after (None: it was deleted)."""
    restores: NotRequired[str]
    """For a ``restored`` event: the key of the history entry whose value was brought back."""
    cause: NotRequired[str]
    """Why, when it was not extraction: ``consolidation`` (a near-duplicate, a contradicted
    value, or over the bound) or ``forgetting`` (past its memory type's age or unused limit)."""
    reason: NotRequired[str]
    """In words: the memory it duplicates or that contradicts it, the bound, or which limit."""


class UseRecord(TypedDict):
    """When a memory was last returned by a read over the HTTP store API (the agent's use)."""

    used_at: float


class ExtractionRecord(TypedDict):
    """The last extraction that committed into a memory namespace."""

    namespace: list[str]
    at: float
    run_id: str | None
    assistant_id: str | None
    """The assistant it ran as: the quiet job consolidates with the same settings."""


class ConsolidationAttempt(TypedDict):
    """A consolidation the quiet job started: which quiet period it was for, and its run."""

    namespace: list[str]
    quiet_since: float
    """The ``at`` of the :class:`ExtractionRecord` the namespace had been quiet since."""
    at: float
    run_id: str | None


class BackfillConversation(TypedDict):
    """A conversation a backfill has done: every run it took committed.

    Its key is the conversation's digest (thread, namespace and message ids), so
    the same conversation on another line of the file is done too. It names no
    user, thread or namespace: erasing a user (``forget``) leaves nothing of them
    here, and a backfill run again after it does not bring their memories back.
    """

    line: int
    """Its line in the file (1-based) when it was done."""
    messages: int
    run_ids: list[str]
    """The runs that processed it (one per chunk of messages)."""
    created: int
    updated: int
    done_at: float


class BackfillSummary(TypedDict):
    """What a backfill of one file has done so far, rewritten at each start and end."""

    source: str
    """The file's name as given (informative: the backfill id is its content's hash)."""
    conversations: int
    """Conversations the file holds (lines that parse)."""
    bad_lines: int
    done: int
    """Conversations done, over every run of this backfill."""
    failed: int
    """Conversations whose runs failed or did not finish in the last run (done: no)."""
    started_at: float
    """When the first run of this backfill started."""
    updated_at: float
    finished: bool
    """Every conversation of the file is done."""


# ------------------------------------------------------------------------ places


def user_prefix(identity: Any, identities: Collection[str]) -> tuple[str, ...] | None:
    """The store prefix of a user's records: ``()`` in open mode, ``(identity,)`` keyed.

    ``identities``: the API keys' identities (empty: open mode). None when keys are
    on and ``identity`` is none of them (Studio's operator, a removed key): such a
    caller owns no records.
    """
    if not identities:
        return ()
    return owner_prefix(identity) if identity in identities else None


def owner_prefix(owner: Any) -> tuple[str, ...]:
    """The store prefix of a thread's records, from the ``owner`` in its metadata.

    The owner is the identity the server's auth stamped on the thread (none in open mode).
    """
    return (str(owner),) if owner else ()


def store_prefixes(identities: Collection[str]) -> list[tuple[str, ...]]:
    """Every user's prefix, for the server's jobs that look at every user's records."""
    return [(i,) for i in sorted(identities)] if identities else [()]


def inbox_namespace(thread_id: str, prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """Namespace of a thread's inbox entries."""
    return (*prefix, INBOX_LABEL, thread_id)


def receipts_namespace(thread_id: str, prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """Namespace of a thread's receipts."""
    return (*prefix, RECEIPTS_LABEL, thread_id)


def delivery_namespace(thread_id: str, prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """Namespace of a thread's delivery record (its key: :data:`DELIVERY_KEY`)."""
    return (*prefix, DELIVERY_LABEL, thread_id)


def history_namespace(memory_namespace: Sequence[str]) -> tuple[str, ...]:
    """Namespace of the history of the memories in ``memory_namespace``.

    Inside the user's prefix like the memories themselves: a keyed user's store
    requests and runs are prefixed by the server and the graph.
    """
    return (HISTORY_LABEL, *memory_namespace)


def use_namespace(memory_namespace: Sequence[str], prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """Namespace of the use records of the memories in ``memory_namespace`` (key: memory key)."""
    return (*prefix, USE_LABEL, *memory_namespace)


def activity_namespace(
    memory_namespace: Sequence[str], prefix: Sequence[str] = ()
) -> tuple[str, ...]:
    """Namespace of a memory namespace's activity records (:data:`EXTRACTED_KEY`, ...)."""
    return (*prefix, ACTIVITY_LABEL, *memory_namespace)


def is_memory_namespace(namespace: Sequence[str], prefix: Sequence[str] = ()) -> bool:
    """Whether ``namespace`` (under the user's ``prefix``) may hold memories: no record's."""
    labels = tuple(namespace)[len(prefix) :]
    return bool(labels) and labels[0] not in RECORD_LABELS


def activities_namespace(prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """The prefix every memory namespace's activity sits under: one search reads them all."""
    return (*prefix, ACTIVITY_LABEL)


def history_key(memory_key: str, at: float, seq: int = 0) -> str:
    """A history entry's key: the memory's key, then when (sortable), then its place in the run."""
    return f"{memory_key}@{int(at * 1_000_000):017d}.{seq:03d}"


def history_ttl_minutes(days: float) -> float | None:
    """The store TTL of a history entry kept ``days`` days (None: kept for ever)."""
    return days * 24 * 60 if days > 0 else None


def backfill_namespace(backfill_id: str, prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """Namespace of a backfill's record: its conversations done and its summary.

    Written through the HTTP store with the caller's key, so the server puts it
    under the caller's prefix when API keys are on (``prefix`` is for the server's
    own readers).
    """
    return (*prefix, BACKFILL_LABEL, backfill_id)


def inboxes_namespace(prefix: Sequence[str] = ()) -> tuple[str, ...]:
    """The namespace prefix every thread's inbox sits under: one search reads them all."""
    return (*prefix, INBOX_LABEL)


def thread_of_inbox(namespace: Sequence[str]) -> str:
    """The thread id of an inbox item's namespace, whatever prefix the server added."""
    labels = list(namespace)
    return labels[labels.index(INBOX_LABEL) + 1]


def thread_records(thread_id: str, prefix: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """Every namespace a thread's records live in (what goes when the thread goes)."""
    return [
        inbox_namespace(thread_id, prefix),
        receipts_namespace(thread_id, prefix),
        delivery_namespace(thread_id, prefix),
    ]


# ------------------------------------------------------------------ written


def submission_record(
    submission_id: str, messages: list[Message], submitted_at: float, after_seconds: float
) -> SubmissionRecord:
    """One accepted submission, as its inbox entry holds it."""
    return {
        "submission_id": submission_id,
        "messages": messages,
        "submitted_at": submitted_at,
        "after_seconds": after_seconds,
    }


def inbox_entry(
    submissions: list[SubmissionRecord],
    namespace: Sequence[str] | None,
    run: RunSpec | None = None,
) -> InboxEntry:
    """An inbox entry: what the client's ``send`` and the server's capture both write.

    Its key is the ``submission_id`` the run's input carries (the newest of a
    coalesced group), so capture finds the client's entry and writes no second one.
    """
    entry: InboxEntry = {
        "namespace": None if namespace is None else list(namespace),
        "submissions": submissions,
    }
    if run is not None:
        entry["run"] = run
    return entry


def receipt(
    submission_id: str,
    run_id: str,
    message_ids: list[str],
    changes: Mapping[str, Any],
    usage: UsageRecord,
    now: float,
) -> Receipt:
    """The receipt a committing run writes for one submission it processed."""
    return {
        "submission_id": submission_id,
        "run_id": run_id,
        "processed_at": now,
        "message_ids": message_ids,
        "created": list(changes.get("created", [])),
        "updated": list(changes.get("updated", [])),
        "deleted": list(changes.get("deleted", [])),
        "usage": usage,
    }


def delivery_record(
    before: DeliveryRecord | None,
    max_attempts: int,
    now: float,
    *,
    error: str,
    run_id: str | None,
    attempts: int | None = None,
    next_at: float | None = None,
    parked: bool = False,
) -> DeliveryRecord:
    """The delivery record after a redelivery attempt (``attempts``) or parking (``parked``)."""
    done = before["attempts"] if before is not None else 0
    return {
        "attempts": attempts if attempts is not None else done,
        "max_attempts": max_attempts,
        "next_at": None if parked else next_at,
        "parked": parked,
        "last_error": error,
        "last_run_id": run_id,
        "updated_at": now,
    }


def history_entry(
    namespace: Sequence[str],
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: float,
    *,
    run_id: str | None = None,
    thread_id: str | None = None,
    submission_ids: Sequence[str] = (),
    message_ids: Sequence[str] = (),
    restores: str | None = None,
    cause: str | None = None,
    reason: str | None = None,
) -> HistoryEntry:
    """The history entry of one change; its event follows from ``before`` and ``after``.

    With ``restores`` (the key of the entry whose value came back), it is an undo.
    """
    event: HistoryEvent
    if restores is not None:
        event = "restored"
    elif before is None:
        event = "created"
    elif after is None:
        event = "deleted"
    else:
        event = "updated"
    entry: HistoryEntry = {
        "namespace": list(namespace),
        "key": key,
        "event": event,
        "at": at,
        "run_id": run_id,
        "thread_id": thread_id,
        "submission_ids": list(submission_ids),
        "message_ids": list(message_ids),
        "before": before,
        "after": after,
    }
    if restores is not None:
        entry["restores"] = restores
    if cause is not None:
        entry["cause"] = cause
    if reason is not None:
        entry["reason"] = reason
    return entry


def backfill_conversation(
    line: int,
    messages: int,
    run_ids: Sequence[str],
    created: int,
    updated: int,
    now: float,
) -> BackfillConversation:
    """The record of a conversation a backfill has done (written after its runs committed)."""
    return {
        "line": line,
        "messages": messages,
        "run_ids": list(dict.fromkeys(run_ids)),
        "created": created,
        "updated": updated,
        "done_at": now,
    }


def backfill_summary(
    before: Mapping[str, Any] | None,
    source: str,
    conversations: int,
    bad_lines: int,
    done: int,
    failed: int,
    now: float,
) -> BackfillSummary:
    """A backfill's summary now; ``before`` (the stored one) keeps when it first started."""
    started = float(before["started_at"]) if before and "started_at" in before else now
    return {
        "source": source,
        "conversations": conversations,
        "bad_lines": bad_lines,
        "done": done,
        "failed": failed,
        "started_at": started,
        "updated_at": now,
        "finished": done >= conversations,
    }


def use_record(now: float) -> UseRecord:
    """A memory's use record: it was read at ``now``."""
    return {"used_at": now}


def extraction_record(
    namespace: Sequence[str], at: float, run_id: str | None, assistant_id: str | None
) -> ExtractionRecord:
    """The activity record of an extraction that committed into ``namespace`` at ``at``."""
    return {
        "namespace": list(namespace),
        "at": at,
        "run_id": run_id,
        "assistant_id": assistant_id,
    }


def consolidation_attempt(
    namespace: Sequence[str], quiet_since: float, at: float, run_id: str | None
) -> ConsolidationAttempt:
    """The activity record of a consolidation the quiet job started at ``at``."""
    return {"namespace": list(namespace), "quiet_since": quiet_since, "at": at, "run_id": run_id}


# --------------------------------------------------------------------- read


def _submissions(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(entry.get("submissions") or [])


def entry_submitted_at(entry: Mapping[str, Any]) -> float:
    """When an entry's first submission was handed over (entries are processed in this order)."""
    subs = _submissions(entry) or [{}]
    return float(subs[0].get("submitted_at", 0.0))


def entry_due(entry: Mapping[str, Any]) -> float:
    """When an entry's earliest submission became due (``submitted_at + after_seconds``)."""
    subs = _submissions(entry) or [{}]
    return min(float(s.get("submitted_at", 0)) + float(s.get("after_seconds", 0)) for s in subs)


def inbox_count(items: Iterable[Mapping[str, Any]]) -> int:
    """How many accepted, unprocessed submissions a thread's inbox items hold."""
    return sum(len(_submissions(item["value"])) for item in items)


def held_submissions(items: Iterable[Mapping[str, Any]]) -> set[str]:
    """The ids of the submissions a thread's inbox items hold."""
    return {str(s["submission_id"]) for item in items for s in _submissions(item["value"])}


def newest_run_spec(items: Sequence[Mapping[str, Any]], default_assistant: str) -> RunSpec:
    """How to run a thread's waiting entries again: as the newest of them was run."""
    newest = max(items, key=lambda i: entry_due(i["value"]))
    spec = newest["value"].get("run")
    return spec if isinstance(spec, dict) else {"assistant_id": default_assistant}  # type: ignore[return-value]


def backfill_done_keys(items: Iterable[Mapping[str, Any]]) -> set[str]:
    """The conversations a backfill's record items say are done (its summary left out)."""
    return {str(i["key"]) for i in items if i["key"] != BACKFILL_SUMMARY_KEY}


# ----------------------------------------------------------- acknowledged, pruned


def expired_receipts(
    receipts: Iterable[T],
    processed_at: Callable[[T], float],
    keep: Collection[str],
    key: Callable[[T], str],
    now: float | None = None,
) -> list[T]:
    """Receipts nobody came back for in :data:`RECEIPT_MAX_AGE_S`, except those in ``keep``.

    The waiting client reads and deletes its receipts; these are the rest, pruned
    by the next run that commits on the thread (not one it has just written again).
    """
    cutoff = (time.time() if now is None else now) - RECEIPT_MAX_AGE_S
    return [r for r in receipts if processed_at(r) < cutoff and key(r) not in keep]


# ---------------------------------------------------------------------- paging


def paged(
    request: Callable[[int, int], R],
    size: int,
    key: str | None = None,
    until: Callable[[list[Any]], bool] | None = None,
) -> Generator[R, Any, list[Any]]:
    """Read a listing to its end, sans-I/O: yields ``request(limit, offset)``, receives answers.

    A short page is the last. ``key``: where an answer holds its page (``"items"`` for
    the HTTP store); None: the answer is the page. ``until``: stop early once it says
    so of everything read so far (a sorted listing whose rest is of no use). Returns
    every item read, in order.
    """
    found: list[Any] = []
    while True:
        answer = yield request(size, len(found))
        page = answer if key is None else answer[key]
        found.extend(page)
        if len(page) < size or (until is not None and until(found)):
            return found


async def read_pages(
    fetch: Callable[[int, int], Awaitable[Any]],
    size: int = STORE_PAGE,
    key: str | None = None,
    until: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """:func:`paged` driven by an async ``fetch(limit, offset)``."""
    flow = paged(lambda limit, offset: (limit, offset), size, key, until)
    request = next(flow)
    while True:
        answer = await fetch(*request)
        try:
            request = flow.send(answer)
        except StopIteration as done:
            return list(done.value)
