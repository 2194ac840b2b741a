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

import asyncio
import math
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore

from graphs.memory_manager.embeddings import index_embeddings

__all__ = ["Deduplicator", "index_embeddings"]


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
        self._prefetched: dict[str, list[float]] = {}

    async def prefetch(self, texts: Sequence[str]) -> None:
        """Embed the texts :meth:`known` will be asked about, all at once.

        The requests are made together, so the embedder can serve them with one model
        call (:class:`~graphs.memory_manager.vectors.Coalescer`) instead of one per fact.
        """
        if self._embeddings is None or not texts:
            return
        distinct = list(dict.fromkeys(texts))
        vectors = await asyncio.gather(*(self._embeddings.aembed_query(t) for t in distinct))
        self._prefetched.update(zip(distinct, vectors, strict=True))

    async def known(self, text: str) -> bool:
        """True if ``text`` restates a stored memory or a fact accepted earlier in this run.

        A fact that is not known is remembered as accepted, so a later restatement
        in the same run is caught too.
        """
        if self._embeddings is None:
            return False
        vector = self._prefetched.pop(text, None) or await self._embeddings.aembed_query(text)
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
