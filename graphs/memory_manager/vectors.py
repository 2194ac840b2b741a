"""Embed each distinct text once, and embed the texts of concurrent runs in one model call.

A run embeds the same sentence several times: the offline extractor's
de-duplication query, the store's search for it, and the store's index when the
memory is written (langmem's path: its search query and the memory it writes). On
the local model a call costs ~9 ms of CPU for one sentence but ~2 ms a sentence in a
batch of 16 (measured on 2 cores), so :class:`ConfiguredEmbeddings
<graphs.memory_manager.embeddings.ConfiguredEmbeddings>` puts two things in front
of its model:

- :class:`VectorCache`: text -> vector, bounded, least recently used out first.
  A text's vector does not depend on the run, so a process-wide cache is safe.
- :class:`Coalescer`: requests made on one event loop while the model is busy wait
  for the next call, which embeds all of them together; a text asked for twice
  meanwhile is embedded once.
"""

from __future__ import annotations

import asyncio
import threading
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["Coalescer", "VectorCache"]


class VectorCache:
    """Vectors by text, at most ``size`` of them."""

    def __init__(self, size: int = 4096) -> None:
        """Keep at most ``size`` vectors (3 KiB each at 384 dimensions)."""
        self._size = size
        self._vectors: OrderedDict[str, array[float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> list[float] | None:
        """The cached vector of ``text`` (a fresh list), or None."""
        with self._lock:
            found = self._vectors.get(text)
            if found is None:
                return None
            self._vectors.move_to_end(text)
        return list(found)

    def put(self, text: str, vector: Sequence[float]) -> None:
        """Remember ``text``'s vector, dropping the least recently used beyond the bound."""
        with self._lock:
            self._vectors[text] = array("d", vector)
            self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)

    def __len__(self) -> int:
        """How many vectors are cached."""
        return len(self._vectors)


Embed = Callable[[list[str]], Awaitable[list[list[float]]]]


class Coalescer:
    """Merges the embedding requests made on one event loop into as few ``embed`` calls as can be.

    One call runs at a time; texts asked for meanwhile wait, and the next call
    takes all of them. Not thread-safe: use one per event loop.
    """

    def __init__(self, embed: Embed) -> None:
        """``embed`` turns a list of distinct texts into their vectors, in order."""
        self._embed = embed
        self._waiting: dict[str, asyncio.Future[list[float]]] = {}
        self._worker: asyncio.Task[None] | None = None
        self.calls = 0
        """How many times ``embed`` was called (for tests and benchmarks)."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The vectors of ``texts``, in order, embedded together with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        futures = []
        for text in texts:
            future = self._waiting.get(text)
            if future is None:
                future = self._waiting[text] = loop.create_future()
            futures.append(future)
        if self._worker is None or self._worker.done():
            # Starts on the loop's next turn, so requests made in this one join it.
            self._worker = loop.create_task(self._drain())
        # Shielded: a cancelled caller must not cancel a vector other callers wait for.
        vectors = await asyncio.gather(*(asyncio.shield(f) for f in futures))
        return [list(v) for v in vectors]

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            self.calls += 1
            try:
                vectors = await self._embed(list(batch))
            except asyncio.CancelledError:
                for future in batch.values():
                    future.cancel()
                raise
            except Exception as err:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(err)
                continue
            for future, vector in zip(batch.values(), vectors, strict=True):
                if not future.done():
                    future.set_result(vector)
