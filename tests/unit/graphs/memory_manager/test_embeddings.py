"""The embedder behind the store index: provider choice, clear errors, the real offline model."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings

import graphs.memory_manager.embeddings as emb
from graphs.memory_manager.embeddings import (
    DIMS,
    ConfiguredEmbeddings,
    EmbedderMissingError,
    check_provider,
)


class FixedSize(Embeddings):
    def __init__(self, size: int) -> None:
        self.size = size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] * self.size for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0] * self.size


def test_default_is_the_local_model(monkeypatch):
    monkeypatch.delenv("MEMORY_EMBEDDINGS", raising=False)
    assert ConfiguredEmbeddings().provider == "local"
    monkeypatch.setenv("MEMORY_EMBEDDINGS", "  ")
    assert ConfiguredEmbeddings().provider == "local"


def test_provider_string_from_env(monkeypatch):
    monkeypatch.setenv("MEMORY_EMBEDDINGS", "openai:text-embedding-3-small")
    assert ConfiguredEmbeddings().provider == "openai:text-embedding-3-small"


def test_a_value_that_is_no_provider_names_the_variable():
    with pytest.raises(ValueError, match="MEMORY_EMBEDDINGS='minilm'"):
        check_provider("minilm")


def test_missing_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(emb.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EmbedderMissingError, match=r"memory-reflect\[embeddings\]"):
        ConfiguredEmbeddings("local")


def test_local_model_threads_default_to_one_and_a_bad_value_stops_the_start(monkeypatch):
    monkeypatch.delenv("MEMORY_EMBEDDING_THREADS", raising=False)
    assert ConfiguredEmbeddings("local")._threads == 1
    monkeypatch.setenv("MEMORY_EMBEDDING_THREADS", "2")
    assert ConfiguredEmbeddings("local")._threads == 2
    for bad in ("0", "two"):
        monkeypatch.setenv("MEMORY_EMBEDDING_THREADS", bad)
        with pytest.raises(ValueError, match=f"MEMORY_EMBEDDING_THREADS='{bad}'"):
            ConfiguredEmbeddings("local")
    assert ConfiguredEmbeddings("fake:model")._threads == 1  # a provider's: not read


def test_local_model_runtime_is_read_at_start_and_only_for_the_local_model(monkeypatch):
    monkeypatch.setenv("MEMORY_EMBEDDING_RUNTIME", "torch")
    assert ConfiguredEmbeddings("local")._runtime == "torch"
    monkeypatch.setenv("MEMORY_EMBEDDING_RUNTIME", "gpu")
    with pytest.raises(ValueError, match="MEMORY_EMBEDDING_RUNTIME='gpu'"):
        ConfiguredEmbeddings("local")
    assert ConfiguredEmbeddings("fake:model").provider == "fake:model"  # a provider's: not read


def test_wrong_vector_size_names_the_setting():
    e = ConfiguredEmbeddings("fake:model")
    e._inner = FixedSize(12)
    with pytest.raises(ValueError, match=r"MEMORY_EMBEDDINGS=fake:model: got 12-dimensional"):
        e.embed_query("hi")
    e._inner = FixedSize(DIMS)
    assert len(e.embed_documents(["a", "b"])) == 2


async def test_local_model_is_offline_384_dims_and_semantic(local_embeddings):
    a, b, c = await local_embeddings.aembed_documents(
        ["User lives in Lisbon.", "User resides in Lisbon.", "User likes chess."]
    )
    assert len(a) == DIMS

    def cos(x, y):
        return sum(i * j for i, j in zip(x, y, strict=True))

    assert cos(a, b) > 0.85 > cos(a, c)


def test_index_embeddings_is_found_through_our_wrappers_without_private_attributes(monkeypatch):
    from langgraph.store.base import BaseStore
    from langgraph.store.memory import InMemoryStore

    from graphs.memory_manager import embeddings as module
    from graphs.memory_manager.embeddings import index_embeddings
    from graphs.memory_manager.scoped import ScopedStore
    from graphs.memory_manager.staging import StagingStore

    embedder = FixedSize(DIMS)
    indexed = InMemoryStore(index={"dims": DIMS, "embed": embedder})
    assert index_embeddings(StagingStore(ScopedStore(indexed, ("alice",)))) is embedder
    assert index_embeddings(StagingStore(InMemoryStore())) is None

    class Batching(BaseStore):  # like the dev server's wrapper: no public `embeddings`
        def batch(self, ops):
            raise NotImplementedError

        async def abatch(self, ops):
            raise NotImplementedError

    monkeypatch.setattr(module, "_served", None)
    assert index_embeddings(StagingStore(Batching())) is None  # the server loaded no index
    served = module.serve_index()
    assert index_embeddings(StagingStore(Batching())) is served
    assert module.serve_index() is served


def test_warm_up_loads_the_served_embedder_once_and_says_so(monkeypatch, caplog):
    import logging

    from graphs.memory_manager import embeddings as module

    monkeypatch.setattr(module, "_served", None)
    assert module.warm_up_index() is None  # no index served: nothing to load

    class Broken(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("no weights")

        def embed_query(self, text: str) -> list[float]:
            raise RuntimeError("no weights")

    served = module.serve_index()
    served._inner = FixedSize(DIMS)
    with caplog.at_level(logging.INFO, logger=module.__name__):
        assert module.warm_up_index() is not None
    assert "embedder ready (local" in caplog.text
    served._inner = Broken()
    served._cache = module.VectorCache()
    assert module.warm_up_index() is None
    assert "did not load (no weights)" in caplog.text
