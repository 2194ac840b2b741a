"""Consolidation: one run per namespace that merges near-duplicates and keeps it under a bound.

A run whose input says ``consolidate`` reads the memories of its namespace instead of
a conversation, and ``extract`` stages deletes here instead of extracting:

1. **near-duplicates**: memories whose texts the store's semantic index finds at least
   ``dedup_threshold`` similar (the same threshold that keeps the offline extractor from
   storing a restatement), or equal once case and punctuation are set aside, are one
   group; the most recently updated one stays, the others are retired;
2. **contradictions**: memories about the same single-valued attribute of the user
   (name, home, age, employer, job, car, a favourite, …: what the offline rules know
   as a *slot*, read from each text by :func:`~.offline.slots.memory_slot`) with
   different values; the most recently updated one stays, the older are retired;
3. **the bound**: with ``max_memories`` set, the least recently updated of the rest are
   retired until the namespace holds that many.

That is the offline plan. With a chat model configured, steps 1 and 2 are the model's
instead: one call per namespace (per window of a large one), its answer checked
(:mod:`.consolidate_model`).

Retiring is a delete that ``commit`` records in the memory's history (``cause:
consolidation``), so every one can be undone (``memory-reflect undo``). It never
starts while accepted work for the namespace waits in an inbox (an extraction pending
or running: its writes would meet ours), it never empties the namespace (the newest
memory of each group stays), and it stops, naming why, rather than retire more than
``consolidation_max_share`` of it at once.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore, Item

from graphs.memory_manager.consolidate_model import ModelAnswerError, model_retirements
from graphs.memory_manager.context import Context
from graphs.memory_manager.embeddings import index_embeddings
from graphs.memory_manager.offline.slots import memory_slot
from graphs.memory_manager.state import StagedOp, retirement
from sdk_client.contract import memory_text
from sdk_client.records import STORE_PAGE, inboxes_namespace, read_pages

__all__ = [
    "CONSOLIDATION",
    "ConsolidationRefusedError",
    "Memory",
    "consolidate",
    "plan_retirements",
]

CONSOLIDATION = "consolidation"
"""A consolidation run's ``extractor``, and the ``cause`` of the history entries it writes."""


class ConsolidationRefusedError(RuntimeError):
    """Consolidation stopped before writing anything; the message says why."""


@dataclass(frozen=True)
class Memory:
    """What the plan needs of one stored memory."""

    key: str
    text: str
    updated_at: float
    vector: Sequence[float] | None = None


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _plain(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def plan_retirements(
    memories: Sequence[Memory], threshold: float, max_memories: int
) -> dict[str, str]:
    """Which memories to retire, each with the reason; pure, for tests and the run alike.

    Newest first wins: within a group of near-duplicates, and among memories of one
    single-valued attribute, the most recently updated memory stays; over the bound the
    least recently updated go. Each reason names the memory that stays in its place.
    """
    newest_first = sorted(memories, key=lambda m: (m.updated_at, m.key), reverse=True)
    kept: list[Memory] = []
    slots: dict[str, tuple[Memory, str]] = {}  # each attribute's newest memory, and its value
    retired: dict[str, str] = {}
    for memory in newest_first:
        twin = next((k for k in kept if _same(memory, k, threshold)), None)
        slot = memory_slot(memory.text)
        if twin is not None:
            retired[memory.key] = f"a near-duplicate of {twin.key}"
        elif slot is not None and slot.name in slots:
            newer, said = slots[slot.name]
            retired[memory.key] = (
                f"a near-duplicate of {newer.key} (the same {slot.name})"
                if slot.said == said
                else f"contradicted by the newer {newer.key} ({slot.name}: {newer.text!r})"
            )
        else:
            kept.append(memory)
            if slot is not None:
                slots[slot.name] = (memory, slot.said)
    return retired | bound_retirements(memories, retired, max_memories)


def bound_retirements(
    memories: Sequence[Memory], retired: Mapping[str, str], max_memories: int
) -> dict[str, str]:
    """What else goes to keep ``max_memories`` once ``retired`` has: the least recently updated."""
    if max_memories <= 0:
        return {}
    newest_first = sorted(memories, key=lambda m: (m.updated_at, m.key), reverse=True)
    rest = [m for m in newest_first if m.key not in retired]
    reason = f"over max_memories ({max_memories}), least recently updated"
    return {m.key: reason for m in rest[max_memories:]}


def _same(a: Memory, b: Memory, threshold: float) -> bool:
    if _plain(a.text) == _plain(b.text):
        return True
    if a.vector is None or b.vector is None:
        return False
    return _cosine(a.vector, b.vector) >= threshold


async def _memories(store: BaseStore, namespace: tuple[str, ...]) -> list[Item]:
    items: list[Item] = await read_pages(
        lambda limit, offset: store.asearch(namespace, limit=limit, offset=offset), STORE_PAGE
    )
    # The prefix search also reaches sub-namespaces (profiles): those are not consolidated.
    return [i for i in items if tuple(i.namespace) == namespace]


async def _waiting_for(store: BaseStore, namespace: tuple[str, ...]) -> int:
    """How many inbox entries wait to be extracted into ``namespace``.

    Capture binds each entry to its run's namespace, or to the server's default on the
    graph's own assistant. An entry from a custom assistant's run that named none is not
    counted: it goes to whichever namespace the assistant's settings name when it runs
    (capture does not read them), and counting it for
    every namespace would let one parked entry hold back all of them (in open mode, every
    user's).
    """
    entries: list[Item] = await read_pages(
        lambda limit, offset: store.asearch(inboxes_namespace(), limit=limit, offset=offset)
    )
    return sum(1 for e in entries if tuple(e.value.get("namespace") or ()) == namespace)


async def _embedded(store: BaseStore, items: list[Item], texts: list[str]) -> list[Memory]:
    """The memories with their vectors from the store index's embedder (None without one)."""
    embeddings = index_embeddings(store)
    vectors: list[Any] = (
        await embeddings.aembed_documents(texts) if embeddings and texts else [None] * len(items)
    )
    return [
        Memory(i.key, t, i.updated_at.timestamp(), v)
        for i, t, v in zip(items, texts, vectors, strict=True)
    ]


async def consolidate(
    context: Context, namespace: tuple[str, ...], store: BaseStore
) -> list[StagedOp]:
    """The deletes that consolidate ``namespace`` (staged: ``commit`` applies and records them).

    Offline (no ``model``) the plan is the rules' (:func:`plan_retirements`); with a
    model, the model's answers (:mod:`.consolidate_model`, a call per window), then the bound.

    Raises:
        ConsolidationRefusedError: extraction for the namespace is pending, the plan
            would retire more than ``consolidation_max_share`` of it, or the model's
            answer could not be used.
    """
    if waiting := await _waiting_for(store, namespace):
        raise ConsolidationRefusedError(
            f"consolidate {'/'.join(namespace)}: {waiting} accepted submission(s) for it wait "
            "in an inbox (an extraction is pending or running); try again once it is done"
        )
    items = await _memories(store, namespace)
    texts = [memory_text(i.value) for i in items]
    if context.model is None:
        memories = await _embedded(store, items, texts)
        # The plan keeps at least one memory (the newest of each group, max_memories >= 1).
        # Pairwise, in pure Python: in a thread, so a large namespace does not hold up the
        # server's event loop (every other request and run) while it is planned.
        retired = await asyncio.to_thread(
            plan_retirements, memories, context.dedup_threshold, context.max_memories
        )
    else:
        memories = [
            Memory(i.key, t, i.updated_at.timestamp()) for i, t in zip(items, texts, strict=True)
        ]
        try:  # never every key (checked); the bound keeps max_memories >= 1
            retired = await model_retirements(
                context, [(m.key, m.text, m.updated_at) for m in memories]
            )
        except ModelAnswerError as err:
            raise ConsolidationRefusedError(f"consolidate {'/'.join(namespace)}: {err}") from err
        retired |= bound_retirements(memories, retired, context.max_memories)
    if len(retired) > context.consolidation_max_share * len(items):
        raise ConsolidationRefusedError(
            f"consolidate {'/'.join(namespace)}: the plan would retire {len(retired)} of "
            f"{len(items)} memories, more than consolidation_max_share "
            f"({context.consolidation_max_share:g}); nothing was changed. Raise it (or "
            "max_memories) to let it"
        )
    values = {i.key: i.value for i in items}
    return [retirement(namespace, key, values[key], retired[key]) for key in sorted(retired)]
