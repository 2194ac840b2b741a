"""Fixtures for the scale-out tests: a local cluster (Postgres + Redis + two server processes).

Opt-in (``SCALEOUT=1``, ``make scaleout``): the first run installs Debian's Redis and
builds the runtime venv, which takes minutes. Every cluster runs with API keys for
alice and bob, the mounted app and the vector index, as a real deployment would. The
servers use the LLM path against the scripted endpoint, whose ``gate`` lets a test hold
a run while it is running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from deploy.local_cluster import Cluster, run_cluster
from sdk_client import ReflectionExecutor, RetryPolicy
from tests.conftest import ALICE_KEY, BOB_KEY
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint
from tests.server import ISOLATED_ENV

KEYS = f"alice:{ALICE_KEY},bob:{BOB_KEY}"


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
    env: dict[str, str | None] = dict.fromkeys(ISOLATED_ENV)
    return env | llm.server_env() | {"MEMORY_API_KEYS": KEYS} | extra


@pytest.fixture(scope="session")
def cluster(llm: ScriptedEndpoint) -> Iterator[Cluster]:
    with run_cluster(2, cluster_env(llm)) as c:
        yield c


def make_executor(url: str, key: str = ALICE_KEY) -> ReflectionExecutor:
    """An executor talking to one process of the cluster, as alice unless told."""
    return ReflectionExecutor(
        "memory_manager",
        ("memories", "{user_id}"),
        url=url,
        api_key=key,
        poll_interval=0.2,
        retry=RetryPolicy(initial_delay=0.05),
    )


@pytest.fixture
def executors(cluster: Cluster) -> Iterator[tuple[ReflectionExecutor, ReflectionExecutor]]:
    """One executor per server process: A and B."""
    a, b = (make_executor(n.url) for n in cluster.nodes[:2])
    yield a, b
    for ex in (a, b):
        ex.shutdown(wait=False, cancel_futures=True)
