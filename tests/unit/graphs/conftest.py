"""Fixtures for running the graph in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from graphs.memory_manager.graph import builder
from graphs.server import access
from graphs.server.access import Access, parse_api_keys
from tests.fakes import ToolCallingFake


@pytest.fixture
def use_keys(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Turn API keys on for in-process server code: ``use_keys("alice:KEY,bob:KEY", **settings)``.

    The keys are in ``MEMORY_API_KEYS`` syntax; ``settings`` are :class:`Access`'s others.
    """

    def use(keys: str, **settings: Any) -> None:
        monkeypatch.setattr(access, "ACCESS", Access(keys=parse_api_keys(keys), **settings))

    return use


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


FAKE_MODEL = "fake:tool-caller"
"""The model string the runs of :func:`fake_model` ask for (``context={"model": ...}``)."""


@pytest.fixture
def fake_model(monkeypatch):
    """``fake_model(*replies)``: runs asking for FAKE_MODEL get these replies, in order."""
    import graphs.memory_manager.extractors as extractors

    def install(*replies: AIMessage) -> None:
        fake = ToolCallingFake(messages=iter(replies))
        monkeypatch.setitem(extractors._models, (FAKE_MODEL, 60.0), fake)

    return install
