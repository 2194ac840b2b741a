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
