"""Fixtures for the scale-out tests: a local cluster (Postgres + Redis + two server processes).

Opt-in (``SCALEOUT=1``, ``make scaleout``): the first run installs Debian's Redis and
builds the runtime venv, which takes minutes. A failed test's report carries the errors
the cluster's servers logged meanwhile, and every cluster's logs are kept in
:data:`LOGS` once it has stopped. Every cluster runs with API keys for
alice and bob, the mounted app and the vector index, as a real deployment would. The
servers use the LLM path against the scripted endpoint, whose ``gate`` lets a test hold
a run while it is running.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.local_cluster import Cluster, run_cluster
from sdk_client import ReflectionExecutor
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint
from tests.server import ALICE_KEY, keyed_env, quick_executor

LOGS = Path(os.environ.get("MEMORY_REFLECT_CLUSTER_LOGS", "/tmp/memory-reflect-scaleout-logs"))
"""Where each cluster's logs are kept (a folder a cluster), ``MEMORY_REFLECT_CLUSTER_LOGS``."""

_LIVE: list[Cluster] = []
_ERROR = re.compile(r"Traceback|Error|Exception|\bERROR\b|CRITICAL|exception")


@contextmanager
def keyed_cluster(name: str, env: dict[str, str | None]) -> Iterator[Cluster]:
    """Two server processes with ``env``; their logs kept under ``LOGS/name-<time>``."""
    keep = LOGS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with run_cluster(2, env, keep_logs=keep) as c:
        _LIVE.append(c)
        try:
            yield c
        finally:
            _LIVE.remove(c)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report shows what the live clusters' servers logged as errors."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed or not _LIVE:
        return
    for cluster in _LIVE:
        for node in cluster.nodes:
            lines = node.log_text().splitlines()
            hits = [i for i, line in enumerate(lines) if _ERROR.search(line)]
            if not hits:
                continue
            # The latest error, with the traceback that leads to it.
            shown = lines[max(0, hits[-1] - 120) : hits[-1] + 10]
            report.sections.append((f"server log {node.url}, its latest error", "\n".join(shown)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("SCALEOUT") == "1":
        return
    skip = pytest.mark.skip(reason="scale-out tests are opt-in: SCALEOUT=1 (make scaleout)")
    for item in items:
        if item.get_closest_marker("scaleout") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def llm() -> Iterator[ScriptedEndpoint]:
    with run_llm_endpoint() as endpoint:
        yield endpoint


def cluster_env(llm: ScriptedEndpoint, **extra: str) -> dict[str, str | None]:
    """A keyed cluster's environment on the scripted model, plus ``extra``."""
    return keyed_env(**llm.server_env()) | extra


@pytest.fixture(scope="session")
def cluster(llm: ScriptedEndpoint) -> Iterator[Cluster]:
    with keyed_cluster("cluster", cluster_env(llm)) as c:
        yield c


def make_executor(url: str, key: str = ALICE_KEY) -> ReflectionExecutor:
    """An executor talking to one process of the cluster, as alice unless told."""
    return quick_executor(url, api_key=key)


@pytest.fixture
def executors(cluster: Cluster) -> Iterator[tuple[ReflectionExecutor, ReflectionExecutor]]:
    """One executor per server process: A and B."""
    a, b = (make_executor(n.url) for n in cluster.nodes[:2])
    yield a, b
    for ex in (a, b):
        ex.shutdown(wait=False, cancel_futures=True)
