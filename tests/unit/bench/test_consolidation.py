"""The consolidation bench's labelled set and its counting, without running the embedder."""

from __future__ import annotations

from collections import Counter

from bench.consolidation import counts, expected_retirements, load


def _user(*memories: tuple[str, str, bool], bound: int = 0) -> dict:
    user = {
        "id": "u",
        "memories": [
            {"key": f"m{i}", "text": f"text {i}", "at": f"2025-01-0{i + 1}", "fact": f, "stale": s}
            for i, (f, _, s) in enumerate(memories)
        ],
    }
    if bound:
        user["max_memories"] = bound
    return user


def test_the_set_plants_every_case_and_holds_out_a_third():
    data = load()
    users = data["dev"] + data["held_out"]
    assert len(users) >= 30 and len(data["held_out"]) * 3 >= len(users) - 1
    assert len({u["id"] for u in users}) == len(users)
    before = sum((counts(u, {m["key"] for m in u["memories"]}) for u in users), Counter())
    assert before["duplicates_left"] >= 15 and before["stale_left"] >= 20
    assert before["over_bound"] >= 5
    for user in users:
        keys = [m["key"] for m in user["memories"]]
        assert len(set(keys)) == len(keys)
        # A stale value always has a newer, current memory of the same fact.
        for old in (m for m in user["memories"] if m["stale"]):
            assert any(
                m["fact"] == old["fact"] and not m["stale"] and m["at"] > old["at"]
                for m in user["memories"]
            ), old


def test_counts_duplicates_stale_facts_and_losses_beyond_the_bound():
    user = _user(("home", "", True), ("home", "", False), ("cat", "", False), ("cat", "", False),
                 ("job", "", False), bound=2)  # fmt: skip
    everything = {"m0", "m1", "m2", "m3", "m4"}
    assert +counts(user, everything) == Counter(
        memories=5, duplicates_left=1, stale_left=1, over_bound=1
    )
    # Three current facts under a bound of two: one of them has to go, and is not "lost".
    assert +counts(user, {"m1", "m2"}) == Counter(memories=2)
    assert +counts(user, {"m1"}) == Counter(memories=1, facts_lost=1)


def test_the_labels_as_an_answer_retire_stale_values_and_all_but_the_newest_duplicate():
    user = _user(("home", "", True), ("cat", "", False), ("home", "", False), ("cat", "", False))
    assert expected_retirements(user) == {"m0": "older value of m2", "m1": "duplicate of m3"}
