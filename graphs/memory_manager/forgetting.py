"""Forgetting by policy: memories past their type's age, or unused for too long, are retired.

Each consolidation run (``memory-reflect consolidate``, a cron, the server's quiet job)
first applies the namespace's forgetting policy, per memory type (a stored value's
``kind``: ``Memory`` for free text, a schema's name for a typed memory or a profile):

- ``forget_after_days``: a memory not written (created, updated, restored) for that
  many days is retired;
- ``forget_unused_days``: one that no read over the HTTP store API has returned for
  that many days, nor been written since, is retired. The server records those reads
  (``graphs/server/uses.py``) only when ``MEMORY_FORGET_UNUSED_DAYS`` is set, so a run
  asked for this policy on a server that records none refuses, rather than take every
  memory for unused.

Why not the store's TTL (``put(ttl=...)`` with ``refresh_on_read``): an expired item is
deleted by the store's sweeper with no trace, so nothing could say what was forgotten or
bring it back; the graph's own reads (extraction's search, consolidation) would refresh it
like the agent's; and ``langgraph dev``'s in-memory store ignores TTLs altogether. So a
retirement here is a staged delete like consolidation's, which ``commit`` applies and
records in history (``cause: forgetting``, with the reason), and ``undo`` reverses.
Erasure is another thing: ``memory-reflect forget``.

Forgetting is not bounded by ``consolidation_max_share``: the policy says exactly what
goes, each retirement is undoable, and consolidation then plans over what is left.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore, GetOp, Item, Op, Result, SearchOp

from graphs.memory_manager.consolidate import ConsolidationRefusedError
from graphs.memory_manager.context import ANY_TYPE, Context
from graphs.memory_manager.embeddings import index_embeddings
from graphs.memory_manager.state import StagedOp, retirement
from sdk_client.records import STORE_PAGE, USE_SINCE_KEY, read_pages, use_namespace

__all__ = [
    "FORGETTING",
    "Aging",
    "HidingStore",
    "forget",
    "forgetting_reason",
    "limit_for",
    "places",
    "plan_forgetting",
    "tracks_uses",
]

FORGETTING = "forgetting"
"""The ``cause`` of the history entries forgetting writes."""

DAY = 86400.0

Place = tuple[tuple[str, ...], str]
"""A memory's namespace and key."""


@dataclass(frozen=True)
class Aging:
    """What the decision needs of one stored memory."""

    kind: str
    """Its memory type: the stored value's ``kind`` (``Memory`` for free text)."""
    written_at: float
    """When it was last written (the store's ``updated_at``), epoch seconds."""
    used_at: float | None = None
    """When a read over the store API last returned it; None: never recorded."""


def limit_for(policy: Mapping[str, float], kind: str) -> float:
    """The policy's days for ``kind`` (its own entry, else ``*``); 0 when it has none."""
    return float(policy.get(kind, policy.get(ANY_TYPE, 0.0)))


def forgetting_reason(
    memory: Aging,
    after_days: Mapping[str, float],
    unused_days: Mapping[str, float],
    now: float,
) -> str | None:
    """Why ``memory`` is forgotten now, or None to keep it; pure.

    Age counts from the last write; disuse from the last use or write, whichever is later
    (a memory just written, or just restored by an undo, is not unused yet).
    """
    idle_since = max(memory.written_at, memory.used_at or 0.0)
    after = limit_for(after_days, memory.kind)
    if after > 0 and now - memory.written_at > after * DAY:
        days = (now - memory.written_at) / DAY
        return f"not written for {days:.3g} days (forget_after_days[{memory.kind!r}] = {after:g})"
    unused = limit_for(unused_days, memory.kind)
    if unused > 0 and now - idle_since > unused * DAY:
        days = (now - idle_since) / DAY
        return f"not used for {days:.3g} days (forget_unused_days[{memory.kind!r}] = {unused:g})"
    return None


def plan_forgetting(
    memories: Mapping[Place, Aging],
    after_days: Mapping[str, float],
    unused_days: Mapping[str, float],
    now: float,
) -> dict[Place, str]:
    """Which memories to retire, each with its reason; pure, for tests and the run alike."""
    return {
        place: reason
        for place, memory in memories.items()
        if (reason := forgetting_reason(memory, after_days, unused_days, now)) is not None
    }


def tracks_uses(env: Mapping[str, str] | None = None) -> bool:
    """Whether this server records uses: ``MEMORY_FORGET_UNUSED_DAYS`` is set (to anything)."""
    return bool((os.environ if env is None else env).get("MEMORY_FORGET_UNUSED_DAYS", "").strip())


def _kind(item: Item) -> str:
    kind = item.value.get("kind")
    return kind if isinstance(kind, str) and kind else "Memory"


def _forgettable(item: Item, namespace: tuple[str, ...]) -> bool:
    # The namespace's own memories and its profiles (a profile lives alone in the
    # sub-namespace named after its schema); nothing deeper, nothing of another run's.
    ns = tuple(item.namespace)
    return ns == namespace or (ns[:-1] == namespace and ns[-1] == _kind(item))


async def _all(store: BaseStore, namespace: tuple[str, ...]) -> list[Item]:
    items: list[Item] = await read_pages(
        lambda limit, offset: store.asearch(namespace, limit=limit, offset=offset), STORE_PAGE
    )
    return items


async def forget(
    context: Context, namespace: tuple[str, ...], store: BaseStore, now: float | None = None
) -> list[StagedOp]:
    """The deletes that forget what ``namespace``'s policy says (staged: ``commit`` records them).

    Raises:
        ConsolidationRefusedError: ``forget_unused_days`` is asked of a server that
            records no uses (every memory would look unused).
    """
    after, unused = context.forget_after_days, context.forget_unused_days
    if not any(d > 0 for d in (*after.values(), *unused.values())):
        return []
    if any(d > 0 for d in unused.values()) and not tracks_uses():
        raise ConsolidationRefusedError(
            f"forget {'/'.join(namespace)}: forget_unused_days needs the server to record "
            "which memories are read, which it does only when MEMORY_FORGET_UNUSED_DAYS is "
            "set; nothing was changed"
        )
    now = time.time() if now is None else now
    items = [i for i in await _all(store, namespace) if _forgettable(i, namespace)]
    used: dict[Place, float] = {}
    tracked_since = 0.0
    if any(d > 0 for d in unused.values()):
        tracked_since = await _uses_tracked_since(store, now)
        for record in await _all(store, use_namespace(namespace)):
            # (USE_LABEL, *memory namespace): the memory's namespace is what follows.
            place = (tuple(record.namespace)[1:], record.key)
            used[place] = float(record.value.get("used_at") or 0.0)
    memories = {}
    for i in items:
        place = (tuple(i.namespace), i.key)
        last_use = max(used.get(place, 0.0), tracked_since) or None
        memories[place] = Aging(_kind(i), i.updated_at.timestamp(), last_use)
    plan = plan_forgetting(memories, after, unused, now)
    values = {(tuple(i.namespace), i.key): i.value for i in items}
    return [
        retirement(ns, key, values[(ns, key)], why, cause=FORGETTING)
        for (ns, key), why in sorted(plan.items())
    ]


async def _uses_tracked_since(store: BaseStore, now: float) -> float:
    """Since when this user's reads are known to be recorded: disuse counts from then at most.

    A memory the agent read every day before uses were recorded has no use record; taken
    from its last write alone it would look unused and be retired. So the first run that
    applies ``forget_unused_days`` to a user writes when that was (``USE_SINCE_KEY``, in
    the user's use records), and disuse counts from no earlier than that.
    """
    marker = await store.aget(use_namespace(()), USE_SINCE_KEY)
    if marker is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return float(marker.value["at"])
    await store.aput(use_namespace(()), USE_SINCE_KEY, {"at": now}, index=False)
    return now


class HidingStore(BaseStore):
    """Reads through to ``inner`` as if ``hidden`` memories were already gone; no writes.

    Consolidation plans over what forgetting leaves: its bound and its share count the
    memories that stay. A search asks the inner store for enough to fill the page after
    the hidden ones are taken out, from the first item, so paging stays exact.
    """

    def __init__(self, inner: BaseStore, hidden: Collection[Place]) -> None:
        self._inner = inner
        self._hidden = set(hidden)

    @property
    def embeddings(self) -> Embeddings | None:
        """The embedder of the inner store's semantic index (None without one)."""
        return index_embeddings(self._inner)

    def _asked(self, op: Op) -> Op:
        if isinstance(op, SearchOp) and self._hidden:
            return SearchOp(
                op.namespace_prefix,
                filter=op.filter,
                limit=op.offset + op.limit + len(self._hidden),
                offset=0,
                query=op.query,
                refresh_ttl=op.refresh_ttl,
            )
        return op

    def _shown(self, op: Op, result: Result) -> Result:
        if isinstance(op, GetOp) and isinstance(result, Item):
            return None if (tuple(result.namespace), result.key) in self._hidden else result
        if isinstance(op, SearchOp) and isinstance(result, list) and self._hidden:
            kept = [
                i
                for i in result
                if isinstance(i, Item) and (tuple(i.namespace), i.key) not in self._hidden
            ]
            return kept[op.offset : op.offset + op.limit]
        return result

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Reads only: the inner store's answers, minus the hidden memories."""
        ops = list(ops)
        answers = self._inner.batch([self._asked(op) for op in ops])
        return [self._shown(op, a) for op, a in zip(ops, answers, strict=True)]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Reads only: the inner store's answers, minus the hidden memories."""
        ops = list(ops)
        answers = await self._inner.abatch([self._asked(op) for op in ops])
        return [self._shown(op, a) for op, a in zip(ops, answers, strict=True)]


def places(ops: Sequence[StagedOp]) -> set[Place]:
    """The memories staged ops name."""
    return {(tuple(op["namespace"]), op["key"]) for op in ops}
