"""The langgraph.json copy the dev-server launcher runs with, outside the project tree."""

import json
from pathlib import Path

from deploy.devserver import ROOT, write_config


def test_embed_path_is_made_absolute_and_resolves(tmp_path):
    config = json.loads(write_config(tmp_path).read_text())
    index = config["store"]["index"]
    path, _, name = index["embed"].rpartition(":")
    assert Path(path).is_absolute() and Path(path).is_file() and name == "embeddings"
    assert index["dims"] == 384
    assert (
        config["store"]["ttl"] == json.loads((ROOT / "langgraph.json").read_text())["store"]["ttl"]
    )


def test_without_index(tmp_path):
    config = json.loads(write_config(tmp_path, index=False).read_text())
    assert "index" not in config["store"] and "ttl" in config["store"]
