"""Each distinct text embedded once; concurrent requests embedded in one model call."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.embeddings import Embeddings

from graphs.memory_manager.embeddings import DIMS, ConfiguredEmbeddings
from graphs.memory_manager.vectors import Coalescer, VectorCache


class Counting(Embeddings):
    """A deterministic embedder that records every call it gets."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(t))] + [0.5] * (DIMS - 1) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@pytest.fixture
def counted() -> tuple[ConfiguredEmbeddings, Counting]:
    embedder = ConfiguredEmbeddings("local")
    inner = Counting()
    embedder._inner = inner
    return embedder, inner


async def test_a_text_is_embedded_once_for_query_and_document(counted):
    embedder, inner = counted
    query = await embedder.aembed_query("User lives in Lisbon.")
    docs = await embedder.aembed_documents(["User lives in Lisbon.", "User likes tea."])
    assert embedder.embed_query("User likes tea.") == docs[1]
    assert docs[0] == query
    assert inner.calls == [["User lives in Lisbon."], ["User likes tea."]]


async def test_concurrent_requests_share_one_model_call(counted):
    embedder, inner = counted
    texts = [f"fact {i}" for i in range(10)]
    vectors = await asyncio.gather(*(embedder.aembed_query(t) for t in [*texts, *texts]))
    assert len(inner.calls) == 1 and sorted(inner.calls[0]) == sorted(texts)
    assert vectors[:10] == vectors[10:]


async def test_requests_made_while_the_model_is_busy_wait_for_the_next_call():
    started = asyncio.Event()
    release = asyncio.Event()
    calls: list[list[str]] = []

    async def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        started.set()
        await release.wait()
        return [[float(len(t))] for t in texts]

    coalescer = Coalescer(embed)
    first = asyncio.create_task(coalescer.embed(["a"]))
    await started.wait()
    later = [asyncio.create_task(coalescer.embed([t])) for t in ("bb", "ccc", "bb")]
    await asyncio.sleep(0)
    release.set()
    assert await first == [[1.0]]
    assert [await t for t in later] == [[[2.0]], [[3.0]], [[2.0]]]
    assert calls == [["a"], ["bb", "ccc"]]


async def test_a_cancelled_caller_does_not_cancel_the_others():
    release = asyncio.Event()

    async def embed(texts: list[str]) -> list[list[float]]:
        await release.wait()
        return [[1.0] for _ in texts]

    coalescer = Coalescer(embed)
    gone = asyncio.create_task(coalescer.embed(["x"]))
    kept = asyncio.create_task(coalescer.embed(["x"]))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await kept == [[1.0]]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_failed_call_fails_every_waiting_caller_and_the_next_call_runs():
    fail = True

    async def embed(texts: list[str]) -> list[list[float]]:
        if fail:
            raise ValueError("provider down")
        return [[1.0] for _ in texts]

    coalescer = Coalescer(embed)
    results = await asyncio.gather(
        coalescer.embed(["a"]), coalescer.embed(["b"]), return_exceptions=True
    )
    assert [str(r) for r in results] == ["provider down", "provider down"]
    fail = False
    assert await coalescer.embed(["a"]) == [[1.0]]


def test_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = VectorCache(size=2)
    cache.put("a", [1.0])
    cache.put("b", [2.0])
    assert cache.get("a") == [1.0]  # a is now the most recent
    cache.put("c", [3.0])
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ([1.0], None, [3.0])
    assert len(cache) == 2


def test_cached_vectors_are_exact_and_copies():
    cache = VectorCache()
    vector = [0.1, 1 / 3, -2.5e-9]
    cache.put("t", vector)
    got = cache.get("t")
    assert got == vector
    got.append(9.0)  # type: ignore[union-attr]
    assert cache.get("t") == vector
