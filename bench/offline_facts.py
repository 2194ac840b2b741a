"""The offline extractor's labelled set: score recall and false stores, with no server.

``bench/data/offline_facts.json`` holds user turns, each with the facts it
states as key phrases ("allergic to peanuts"); a turn with none should store
nothing. A key phrase is found when one memory extracted from that turn alone
contains it, compared without case, punctuation or contractions ("doesn't" =
"does not"). :func:`score` gives recall over the expected facts and the share
of fact-free turns (negatives) that stored something anyway, with the misses
and false stores named. ``python -m bench.quality`` and
``tests/unit/graphs/memory_manager/test_offline_facts.py`` both use it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphs.memory_manager.offline import extract_facts

__all__ = ["DATA", "Score", "load", "score", "stored"]

DATA = Path(__file__).with_name("data") / "offline_facts.json"

_EXPAND = [
    (r"n't\b", " not"),
    (r"\bcan not\b", "cannot"),
    (r"\bca not\b", "cannot"),
    (r"\bwo not\b", "will not"),
]


@dataclass
class Score:
    """Recall on the turns that state facts, false stores on those that do not."""

    turns: int = 0
    facts: int = 0
    """Facts the turns state (their key phrases)."""
    found: int = 0
    misses: list[str] = field(default_factory=list)
    """One line per key phrase no memory of its turn contains."""
    negatives: int = 0
    """Turns that state no fact."""
    false_stores: int = 0
    stored_from_negatives: list[str] = field(default_factory=list)
    """One line per fact-free turn that stored something, with what it stored."""

    @property
    def recall(self) -> float:
        """Expected facts found / expected facts."""
        return self.found / self.facts if self.facts else 1.0

    @property
    def false_store_rate(self) -> float:
        """Negatives that stored anything / negatives."""
        return self.false_stores / self.negatives if self.negatives else 0.0

    def row(self, name: str) -> dict[str, Any]:
        """The score as a results-table row."""
        return {
            "set": name,
            "turns": self.turns,
            "recall": round(self.recall, 3),
            "facts_found": f"{self.found}/{self.facts}",
            "negatives_stored": f"{self.false_stores}/{self.negatives}",
            "false_store_pct": round(100 * self.false_store_rate, 1),
        }


def _norm(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    for pattern, repl in _EXPAND:
        text = re.sub(pattern, repl, text)
    return " " + " ".join(re.findall(r"[\w']+", text)) + " "


def load(path: Path = DATA) -> dict[str, Any]:
    """The labelled set."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def stored(turn: str) -> list[str]:
    """The memory texts the offline extractor makes of one user turn."""
    return [f.text for f in extract_facts([{"role": "user", "content": turn, "id": "t"}])]


def score(turns: list[dict[str, Any]]) -> Score:
    """Score the extractor on ``turns`` (entries of the set's ``turns`` or ``held_out``)."""
    result = Score(turns=len(turns))
    for entry in turns:
        texts = stored(entry["turn"])
        if not entry["expect"]:
            result.negatives += 1
            if texts:
                result.false_stores += 1
                result.stored_from_negatives.append(f"{entry['turn']!r} ⟶ {texts}")
            continue
        normed = [_norm(t) for t in texts]
        for phrase in entry["expect"]:
            result.facts += 1
            if any(_norm(phrase) in t for t in normed):
                result.found += 1
            else:
                result.misses.append(f"{entry['turn']!r}: {phrase!r} not in {texts}")
    return result
