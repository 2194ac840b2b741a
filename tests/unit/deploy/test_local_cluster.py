"""The langgraph.json the local cluster serves (``deploy.local_cluster.runtime_config``).

The pinned runtime gets a derived copy of the project's ``langgraph.json``. Every key of
the original is listed here with what the copy does with it, so a key added to
``langgraph.json`` fails this test until someone decides how the runtime takes it
(``tests/scaleout/`` then checks the served settings on the running cluster).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.devserver import ROOT
from deploy.local_cluster import POSTGRES_STORE, runtime_config

ORIGINAL = json.loads((ROOT / "langgraph.json").read_text())

TOP_LEVEL = {
    "$schema": "kept",
    "python_version": "kept",
    "dependencies": "the repository, absolute",
    "graphs": "kept",
    "env": "absolute",
    "store": "kept, the index's embed path absolute, plus path (the runtime ignores the index)",
    "checkpointer": "kept",
    "http": "kept",
    "auth": "kept",
}
HTTP = {"app", "middleware_order", "disable_mcp", "disable_a2a", "cors"}
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
    assert derived["http"]["app"] == "graphs.server.app:app"
    assert derived["auth"]["path"] == "graphs.server.auth:auth"


def test_the_store_keeps_its_index_and_is_ours(derived):
    store, original = derived["store"], ORIGINAL["store"]
    assert store["path"] == POSTGRES_STORE
    assert store["ttl"] == original["ttl"]
    index = dict(store["index"])
    assert Path(index.pop("embed")) == ROOT / original["index"]["embed"]
    assert index == {k: v for k, v in original["index"].items() if k != "embed"}


def test_rewritten_paths(derived):
    assert derived["dependencies"] == [str(ROOT)]
    assert Path(derived["env"]) == ROOT / ORIGINAL["env"] and Path(derived["env"]).is_absolute()


def test_the_original_is_left_alone(tmp_path):
    before = (ROOT / "langgraph.json").read_text()
    path = runtime_config(tmp_path)
    assert path.parent == tmp_path
    assert (ROOT / "langgraph.json").read_text() == before
