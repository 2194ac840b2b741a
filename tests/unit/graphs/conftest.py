"""Fixtures for running the graph in-process."""

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.graph import builder


@pytest.fixture
def store():
    """A fresh in-memory store for one test."""
    return InMemoryStore()


@pytest.fixture
def app(store):
    """The memory_manager graph compiled with the test's store and a checkpointer."""
    return builder.compile(store=store, checkpointer=InMemorySaver())


@pytest.fixture(scope="session")
def local_embeddings():
    """The real offline all-MiniLM-L6-v2, loaded once per session."""
    from graphs.memory_manager.embeddings import ConfiguredEmbeddings

    return ConfiguredEmbeddings("local")


@pytest.fixture
def indexed_store(local_embeddings):
    """A fresh in-memory store with the semantic index langgraph.json declares."""
    import json

    from deploy.devserver import ROOT

    index = json.loads((ROOT / "langgraph.json").read_text())["store"]["index"]
    return InMemoryStore(index={**index, "embed": local_embeddings})


@pytest.fixture
def indexed_app(indexed_store):
    """The graph compiled with the indexed store."""
    return builder.compile(store=indexed_store, checkpointer=InMemorySaver())
