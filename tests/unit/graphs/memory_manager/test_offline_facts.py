"""The offline extractor on its labelled set (bench/data/offline_facts.json): recall and false stores."""

from __future__ import annotations

import json

import pytest

from bench.offline_facts import load, score
from tests.server import ROOT

MIN_RECALL = 0.85
MAX_FALSE_STORE_RATE = 0.03


def test_the_set_is_big_enough_to_mean_something():
    data = load()
    turns = data["turns"] + data["held_out"]
    assert len(turns) >= 150
    assert sum(not t["expect"] for t in turns) >= 50
    assert len({t["turn"] for t in turns}) == len(turns), "a turn is labelled twice"


@pytest.mark.parametrize("part", ["turns", "held_out"])
def test_recall_and_false_stores(part):
    result = score(load()[part])
    misses = "\n".join(["misses:", *result.misses])
    stored = "\n".join(["stored from turns that state no fact:", *result.stored_from_negatives])
    assert result.recall >= MIN_RECALL, f"recall {result.recall:.3f} < {MIN_RECALL}\n{misses}"
    assert result.false_store_rate <= MAX_FALSE_STORE_RATE, (
        f"{result.false_stores}/{result.negatives} negatives stored something\n{stored}"
    )


def test_score_names_misses_and_false_stores():
    result = score(
        [
            {"turn": "I live in Oslo.", "expect": ["lives in Oslo", "speaks Norwegian"]},
            {"turn": "I love tea.", "expect": []},
        ]
    )
    assert (result.found, result.facts, result.false_stores, result.negatives) == (1, 2, 1, 1)
    assert "speaks Norwegian" in result.misses[0]
    assert "User likes tea." in result.stored_from_negatives[0]


def test_key_phrases_ignore_case_punctuation_and_contractions():
    result = score([{"turn": "I don't eat pork!", "expect": ["DOES NOT EAT PORK"]}])
    assert result.recall == 1.0


def test_readme_states_the_measured_numbers():
    """The README's offline paragraph quotes bench/results/quality.json; re-run, then update it."""
    record = json.loads((ROOT / "bench" / "results" / "quality.json").read_text())
    readme = (ROOT / "README.md").read_text()
    for row in record["offline_set"]["rows"]:
        assert row["facts_found"] in readme, row
        assert row["negatives_stored"] in readme, row
