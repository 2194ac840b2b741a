"""Shared fixtures: a real ``langgraph dev`` server (integration tests) and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import Server, run_server

# Variables that would change what the server or client does; tests set what they need.
_ISOLATED = [
    "MEMORY_MODEL",
    "MEMORY_NAMESPACE",
    "MEMORY_INSTRUCTIONS",
    "MEMORY_SCHEMAS",
    "MEMORY_ENABLE_INSERTS",
    "MEMORY_ENABLE_DELETES",
    "MEMORY_QUERY_LIMIT",
    "LANGGRAPH_API_URL",
    "LANGGRAPH_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ISOLATED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """A ``langgraph dev`` serving ``memory_manager`` with the offline extractor."""
    env: dict[str, str | None] = {name: None for name in _ISOLATED}
    with run_server(env) as srv:
        yield srv
