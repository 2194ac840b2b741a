"""A tiny run of the benchmark suite, so it keeps working (its numbers are not asserted)."""

from __future__ import annotations

import json

import pytest

from bench.__main__ import main

# Minutes of servers and runs: in `make test-slow` (CI runs it), not `make test`.
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bench_smoke(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["--smoke", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert "| contender |" in printed and record["machine"] in printed
    rows = {(r["contender"], r["full_history"]): r for r in record["trace"]}
    assert set(rows) == {(c, f) for c in ("ours", "langmem", "per-message") for f in (False, True)}
    # Correctness, not timing: our executor keeps every turn of every burst.
    assert rows[("ours", False)]["turns_kept_pct"] == 100.0
    assert rows[("ours", True)]["turns_kept_pct"] == 100.0
    # The runs recorded the model's token counts (one call per burst: both sides > 0).
    for row in rows.values():
        assert row["recorded_prompt_tokens_per_burst"] > 0, row
        assert row["recorded_completion_tokens_per_burst"] > 0, row
    assert "growth" not in record  # its own file, so a run without growth keeps the last one
    before, after, swept = json.loads((tmp_path / "growth.json").read_text())["growth"]
    assert after["threads_on_server"] >= before["threads_on_server"] + 10
    assert after["turns_kept_pct"] == 100.0
    # The sweeper removed the finished threads before the re-run, and lost nothing.
    assert swept["cleanup"].startswith("sweeper")
    assert swept["threads_on_server"] < after["threads_on_server"]
    assert swept["turns_kept_pct"] == 100.0
    assert [(w["contender"], w["threads"]) for w in record["wave"]] == [
        ("ours", 20),
        ("langmem", 20),
        ("ours", 20),
    ]


def test_run_cost_smoke(tmp_path, capsys):
    from bench import run_cost

    out = tmp_path / "run_cost.json"
    assert run_cost.main(["--smoke", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert "| graph |" in capsys.readouterr().out
    rows = {r["graph"]: r for r in record["rows"]}
    assert list(rows) == [name for name, _, _ in run_cost._CASES]
    # Correctness, not timing: every run ran, and the memory runs wrote their memories
    # (the offline extractor two facts a turn, the scripted model one memory a turn).
    assert [r["runs_ended_ok"] for r in rows.values()] == [10, 10, 10]
    assert [r["memories"] for r in rows.values()] == [0, 20, 10]
    assert all(r["server_cpu_s"] > 0 for r in rows.values())
    # Each wave's threads are deleted once it is measured; the users' memories stay, so
    # their second turn finds the first (10 + 10 in their namespaces).
    (returning,) = record["returning"]
    assert (returning["runs_ended_ok"], returning["memories"]) == (10, 20)
    (first,) = record["first_runs"]
    assert first["embedder_ready_logged"]


def test_run_parts_smoke(tmp_path, capsys):
    from bench import run_parts

    out = tmp_path / "run_parts.json"
    assert run_parts.main(["--smoke", "--out", str(out)]) == 0  # raises if a run failed
    record = json.loads(out.read_text())
    assert "| part of a run |" in capsys.readouterr().out
    server, library = record["server"], record["library"]
    assert set(server) == {"noop", "three_steps", "offline", "offline_cached"}
    assert all(library[name] > 0 for name in ("langmem", "chat_model", "client"))
    floor = record["rows"][-1]
    assert abs(floor["cpu_ms"] - (server["noop"] + library["langmem"])) < 0.01


def test_backfill_bench_smoke(tmp_path, capsys):
    from bench import backfill

    out = tmp_path / "backfill.json"
    assert backfill.main(["--smoke", "--out", str(out)]) == 0  # raises if the backfill failed
    record = json.loads(out.read_text())
    assert "| server |" in capsys.readouterr().out and record["full"] is False
    alone, during = record["rows"]
    assert (alone["backfill"], during["backfill"]) == (False, True)
    # Correctness, not timing: every conversation was backfilled and wrote memories, and
    # every live turn was processed, with the backfill running and without.
    assert during["conversations"] == 8 and during["memories"] > 0
    # Each distinct fact a user stated is one memory: none lost, none twice.
    assert during["memories"] == during["facts_stated"]
    assert during["cpu_ms_per_conversation"] > 0
    assert alone["live_turns"] > 0 and during["live_turns"] > 0
    assert alone["live_failed"] == during["live_failed"] == 0
    # The same seed gives the same conversations (the bench is repeatable).
    assert backfill.conversations(8, 28) == backfill.conversations(8, 28)
    # A run of one server keeps the other's rows of the record it writes over, dated.
    assert backfill.kept_rows(out, ["cluster"]) == [
        {"run": record["date"], **r} for r in record["rows"]
    ]
    assert backfill.kept_rows(out, ["dev"]) == [] == backfill.kept_rows(tmp_path / "none", ["dev"])
