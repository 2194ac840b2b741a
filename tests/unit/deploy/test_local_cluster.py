"""The langgraph.json the local cluster serves (``deploy.local_cluster.runtime_config``).

The pinned runtime gets a derived copy of the project's ``langgraph.json``. Every key of
the original is listed here with what the copy does with it, so a key added to
``langgraph.json`` fails this test until someone decides how the runtime takes it
(``tests/scaleout/`` then checks the kept ``http`` settings on the running cluster).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.devserver import ROOT
from deploy.local_cluster import runtime_config

ORIGINAL = json.loads((ROOT / "langgraph.json").read_text())

TOP_LEVEL = {
    "$schema": "kept",
    "python_version": "kept",
    "dependencies": "the repository, absolute",
    "graphs": "kept",
    "env": "absolute",
    "store": "kept without index (no pgvector in Debian's Postgres)",
    "checkpointer": "kept",
    "http": "kept without app (the runtime fails its lifespan with a custom app)",
    "auth": "dropped (the runtime cannot create runs with a custom auth handler)",
}
HTTP = {
    "app": "dropped",
    "middleware_order": "kept (orders auth and the custom app: neither runs here)",
    "disable_mcp": "kept",
    "disable_a2a": "kept",
    "cors": "kept",
}
AUTH = {"path", "disable_studio_auth"}


@pytest.fixture
def derived(tmp_path: Path) -> dict:
    return json.loads(runtime_config(tmp_path).read_text())


def test_every_key_of_langgraph_json_is_accounted_for():
    assert set(ORIGINAL) == set(TOP_LEVEL), "a langgraph.json key runtime_config does not know"
    assert set(ORIGINAL["http"]) == set(HTTP), "an http key runtime_config does not know"
    assert set(ORIGINAL["auth"]) == AUTH, "an auth key runtime_config does not know"


def test_kept_keys_are_unchanged(derived):
    kept = [k for k, what in TOP_LEVEL.items() if what == "kept"]
    assert {k: derived[k] for k in kept} == {k: ORIGINAL[k] for k in kept}
    http_kept = {k: v for k, v in ORIGINAL["http"].items() if HTTP[k].startswith("kept")}
    assert derived["http"] == http_kept
    assert derived["http"]["disable_mcp"] is derived["http"]["disable_a2a"] is True
    assert derived["http"]["cors"]["allow_origins"] == ["https://smith.langchain.com"]
    store = {k: v for k, v in ORIGINAL["store"].items() if k != "index"}
    assert derived["store"] == store and "ttl" in store


def test_dropped_and_rewritten_keys(derived):
    assert "auth" not in derived and "app" not in derived["http"]
    assert "index" not in derived["store"]
    assert derived["dependencies"] == [str(ROOT)]
    assert Path(derived["env"]) == ROOT / ORIGINAL["env"] and Path(derived["env"]).is_absolute()


def test_the_original_is_left_alone(tmp_path):
    before = (ROOT / "langgraph.json").read_text()
    path = runtime_config(tmp_path)
    assert path.parent == tmp_path
    assert (ROOT / "langgraph.json").read_text() == before
