"""Changing facts: does the offline extractor end with the latest value of a slot, and only it?

``bench/data/changing_facts.json`` holds sequences of one user's turns (a name,
a home, a favourite colour… stated, then changed, with chit-chat, questions and
unrelated facts in between). Each turn is processed as its own run, oldest
first, into one namespace of one store, through :func:`extract_offline`, the
function the graph's ``extract`` step calls (a store carried across turns, as
``commit`` leaves it for the next run). At the end, each sequence is:

- **latest only**: a memory contains the expected (latest) value and none
  contains an older one;
- **stale**: the latest value is held, but so is an older one;
- **missing**: no memory holds the latest value.

Values are key phrases, compared without case, punctuation or contractions, on
word boundaries (as in :mod:`bench.offline_facts`). With no semantic index,
nothing is skipped as a restatement, so what is scored is the keys alone.

``python -m bench.changing_facts`` prints the table per attribute for ``dev``
and ``held_out``, with the machine; ``--part dev --misses`` names the misses.
``tests/unit/graphs/memory_manager/test_changing_facts.py`` holds the dev figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.store.memory import InMemoryStore

from bench.machine import describe
from bench.offline_facts import _norm
from graphs.memory_manager.context import Context
from graphs.memory_manager.offline import extract_offline
from graphs.memory_manager.state import Batch, ProcessedMessage
from sdk_client.contract import normalize_payload

__all__ = ["DATA", "OUTCOMES", "Score", "load", "memories", "score"]

DATA = Path(__file__).with_name("data") / "changing_facts.json"
OUTCOMES = ("latest_only", "stale", "missing")
_NAMESPACE = ["memories", "bench"]


@dataclass
class Score:
    """Outcomes per sequence, counted per attribute, with the misses named."""

    by_attribute: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    """One line per sequence that is not "latest only", with what the store held."""

    def add(self, attribute: str, outcome: str) -> None:
        """Count one sequence's outcome."""
        self.by_attribute.setdefault(attribute, Counter())[outcome] += 1

    @property
    def total(self) -> Counter[str]:
        """Outcomes over all attributes."""
        return sum(self.by_attribute.values(), Counter())

    @property
    def sequences(self) -> int:
        """Sequences scored."""
        return sum(self.total.values())

    @property
    def latest_only_rate(self) -> float:
        """Sequences ending with the latest value only / sequences."""
        return self.total["latest_only"] / self.sequences if self.sequences else 1.0

    def rows(self) -> list[dict[str, Any]]:
        """A row per attribute and one for all of them."""
        rows = []
        for attribute, counts in [*sorted(self.by_attribute.items()), ("all", self.total)]:
            n = sum(counts.values())
            rows.append(
                {
                    "attribute": attribute,
                    "sequences": n,
                    **{o: counts[o] for o in OUTCOMES},
                    "latest_only_pct": round(100 * counts["latest_only"] / n, 1) if n else 0.0,
                }
            )
        return rows


def load(path: Path = DATA) -> dict[str, Any]:
    """The labelled sequences."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def _run(turns: Sequence[str]) -> list[str]:
    store = InMemoryStore()
    context = Context(model=None, namespace=list(_NAMESPACE), schemas=None)
    for i, turn in enumerate(turns):
        (msg,) = normalize_payload({"messages": [{"role": "user", "content": turn}]})
        processed: ProcessedMessage = {
            "id": msg["id"],
            "role": msg["role"],
            "content": msg["content"],
            "submission_id": f"s{i}",
        }
        batch: Batch = {
            "namespace": list(_NAMESPACE),
            "messages": [processed],
            "submission_ids": [f"s{i}"],
        }
        await extract_offline(context, batch, store)
    items = await store.asearch(tuple(_NAMESPACE), limit=1000)
    return [str(item.value["content"]["content"]) for item in items]


def memories(turns: Sequence[str]) -> list[str]:
    """The memory texts a store holds after the offline extractor ran each turn in turn."""
    return asyncio.run(_run(turns))


def outcome(held: Sequence[str], expect: str, older: Sequence[str]) -> str:
    """``latest_only``, ``stale`` or ``missing`` for the memories ``held`` at the end."""
    normed = [_norm(t) for t in held]
    if not any(_norm(expect) in t for t in normed):
        return "missing"
    if any(_norm(old) in t for old in older for t in normed):
        return "stale"
    return "latest_only"


def score(sequences: Sequence[dict[str, Any]]) -> Score:
    """Score the extractor on ``sequences`` (entries of the set's ``dev`` or ``held_out``)."""
    result = Score()
    for seq in sequences:
        held = memories(seq["turns"])
        got = outcome(held, seq["expect"], seq["older"])
        result.add(seq["attribute"], got)
        if got != "latest_only":
            result.misses.append(
                f"{seq['id']} {seq['attribute']} {got}: expect {seq['expect']!r}, "
                f"older {seq['older']}; held {held}"
            )
    return result


def _table(rows: list[dict[str, Any]]) -> str:
    head = "| attribute | sequences | latest only | stale | missing | latest only % |"
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['attribute']} | {r['sequences']} | {r['latest_only']} | {r['stale']} | "
            f"{r['missing']} | {r['latest_only_pct']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table for each part asked for (both by default), and the misses if asked."""
    p = argparse.ArgumentParser(prog="python -m bench.changing_facts", description=__doc__)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument(
        "--part",
        choices=["dev", "held_out", "held_out_2", "held_out_3", "held_out_4", "held_out_5"],
        action="append",
    )
    p.add_argument("--misses", action="store_true", help="name every sequence not latest-only")
    opts = p.parse_args(argv)
    data = load(opts.data)
    print(f"Changing facts, offline extractor, on {describe()} ({time.strftime('%Y-%m-%d %H:%M')})")
    for part in opts.part or [
        p
        for p in ("dev", "held_out", "held_out_2", "held_out_3", "held_out_4", "held_out_5")
        if p in data
    ]:
        result = score(data[part])
        print(f"\n{part}: {result.total['latest_only']}/{result.sequences} latest only\n")
        print(_table(result.rows()))
        if opts.misses:
            for line in result.misses:
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
