"""Shared fixtures: a real ``langgraph dev`` server (integration tests) and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint
from tests.server import ISOLATED_ENV, Server, isolated_env, keyed_env, run_server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """A ``langgraph dev`` serving ``memory_manager`` with the offline extractor."""
    with run_server(isolated_env()) as srv:
        yield srv


@pytest.fixture(scope="session")
def keyed_server() -> Iterator[Server]:
    """A ``langgraph dev`` with API keys for alice and bob (crons polled every second)."""
    with run_server(keyed_env(CRON_SCHEDULER_SLEEP_TIME="1")) as srv:
        yield srv


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedEndpoint]:
    """The scripted OpenAI-compatible endpoint on 127.0.0.1, one per test module."""
    with run_llm_endpoint() as endpoint:
        yield endpoint
