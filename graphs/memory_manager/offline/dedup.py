"""Semantic de-duplication for the offline extractor: skip a fact already stored in other words.

The offline extractor's keys already collapse a fact said twice in the same
words, or a new value of a slot ("I moved to Berlin"). A restatement in other
words ("I'm vegetarian" after "I'm a vegetarian") gets a new key, so before
storing a fact under a new key :class:`Deduplicator` asks the store's semantic
index for the closest memory in the namespace and compares it with the facts
accepted earlier in the same run (those are only staged, so the store cannot
see them yet). A cosine similarity of at least ``dedup_threshold`` (default
0.85, ``MEMORY_DEDUP_THRESHOLD``) means "already known": the fact is skipped.

Without a semantic index there are no similarities, and nothing is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore

__all__ = ["Deduplicator", "index_embeddings"]

# Attributes under which the store wrappers on the way to the real store keep it:
# ours (StagingStore, ScopedStore) and the dev server's batching wrapper.
_INNER_ATTRS = ("_inner", "_store")


def index_embeddings(store: BaseStore) -> Embeddings | None:
    """The embedder of ``store``'s semantic index, looking through wrappers; None without one."""
    current: object = store
    for _ in range(8):  # a handful of wrappers at most; never loop on a cycle
        embeddings = getattr(current, "embeddings", None)
        if isinstance(embeddings, Embeddings):
            return embeddings
        current = next((getattr(current, a) for a in _INNER_ATTRS if hasattr(current, a)), None)
        if current is None:
            return None
    return None


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class Deduplicator:
    """Decides, fact by fact, whether a new fact restates a memory already known."""

    def __init__(
        self,
        store: BaseStore,
        namespace: tuple[str, ...],
        threshold: float,
        embeddings: Embeddings | None,
    ) -> None:
        """Compare within ``namespace`` of ``store``; ``embeddings`` None turns this off."""
        self._store = store
        self._namespace = namespace
        self._threshold = threshold
        self._embeddings = embeddings
        self._accepted: list[list[float]] = []

    async def known(self, text: str) -> bool:
        """True if ``text`` restates a stored memory or a fact accepted earlier in this run.

        A fact that is not known is remembered as accepted, so a later restatement
        in the same run is caught too.
        """
        if self._embeddings is None:
            return False
        vector = await self._embeddings.aembed_query(text)
        best = max((_cosine(vector, seen) for seen in self._accepted), default=0.0)
        hits = await self._store.asearch(self._namespace, query=text, limit=3)
        for hit in hits:
            # The prefix search also reaches sub-namespaces (profiles): compare like with like.
            if tuple(hit.namespace) == self._namespace and hit.score is not None:
                best = max(best, hit.score)
        if best >= self._threshold:
            return True
        self._accepted.append(vector)
        return False
