"""A store wrapper that reads through and holds writes back.

``extract`` hands it to the extractor (langmem's manager or the offline one),
so deciding *what* to write is separate from writing it: ``commit`` applies
the held writes and acknowledges the inbox in one place, after extraction has
fully succeeded. A failed or cancelled extraction therefore writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore, Op, PutOp, Result

from graphs.memory_manager.embeddings import index_embeddings
from graphs.memory_manager.state import StagedOp

__all__ = ["StagingStore"]


class StagingStore(BaseStore):
    """Reads go to ``inner``; puts and deletes are recorded in :attr:`staged`."""

    def __init__(self, inner: BaseStore) -> None:
        self._inner = inner
        self.staged: list[StagedOp] = []

    @property
    def embeddings(self) -> Embeddings | None:
        """The embedder of the inner store's semantic index (None without one)."""
        return index_embeddings(self._inner)

    def _split(self, ops: Iterable[Op]) -> tuple[list[Result], list[tuple[int, Op]]]:
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        reads: list[tuple[int, Op]] = []
        for i, op in enumerate(ops):
            if isinstance(op, PutOp):
                value = dict(op.value) if op.value is not None else None
                self.staged.append({"namespace": list(op.namespace), "key": op.key, "value": value})
            else:
                reads.append((i, op))
        return results, reads

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run reads on the inner store; stage writes."""
        results, reads = self._split(ops)
        inner = self._inner.batch([op for _, op in reads]) if reads else []
        for (i, _), res in zip(reads, inner, strict=True):
            results[i] = res
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run reads on the inner store; stage writes."""
        results, reads = self._split(ops)
        inner: list[Any] = await self._inner.abatch([op for _, op in reads]) if reads else []
        for (i, _), res in zip(reads, inner, strict=True):
            results[i] = res
        return results
