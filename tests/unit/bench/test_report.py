"""The docs' tables of measured figures are what bench/results/*.json hold (`make report`)."""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.tables import table


def test_committed_tables_match_the_results_files():
    stale = report.stale()
    assert not stale, (
        f"docs tables differ from bench/results/*.json: {', '.join(stale)}; run `make report`"
    )


def test_every_table_has_one_block_in_its_page():
    for spec in report.TABLES:
        text = (report.ROOT / spec.page).read_text()
        assert text.count(spec.begin) == 1 and text.count(spec.end) == 1, spec.name


def test_a_block_names_the_run_and_its_file(tmp_path):
    record = {"date": "2030-01-02 03:04", "machine": "a test box", "rows": [{"fault": "f"}]}
    (tmp_path / "reliability.json").write_text(json.dumps(record))
    (spec,) = [s for s in report.TABLES if s.name == "reliability"]
    block = report.render(spec, tmp_path)
    lines = block.splitlines()
    assert lines[0] == spec.begin and lines[-1] == spec.end
    assert lines[1] == "Run of 2030-01-02 03:04 on a test box; `bench/results/reliability.json`:"
    assert "| f |" in block


def test_replace_block_rewrites_only_between_markers():
    (spec, *_) = report.TABLES
    text = f"before\n{spec.begin}\nold\n{spec.end}\nafter\n"
    out = report.replace_block(text, spec, f"{spec.begin}\nnew\n{spec.end}")
    assert out == f"before\n{spec.begin}\nnew\n{spec.end}\nafter\n"


def test_replace_block_without_markers_is_an_error():
    (spec, *_) = report.TABLES
    with pytest.raises(ValueError, match=spec.name):
        report.replace_block("no markers here", spec, "")


def test_check_exits_nonzero_only_when_stale(monkeypatch, capsys):
    assert report.main(["--check"]) == 0
    monkeypatch.setattr(report, "stale", lambda: ["bench-trace"])
    assert report.main(["--check"]) == 1
    assert "make report" in capsys.readouterr().out


def test_table_right_aligns_numbers_and_writes_booleans_as_words():
    rows = [{"name": "a", "n": 1, "x": 0.5, "flag": True}, {"name": "b", "n": 2, "flag": False}]
    cols = [("name", "name"), ("n", "n"), ("x", "x"), ("flag", "flag")]
    assert table(rows, cols).splitlines() == [
        "| name | n | x | flag |",
        "|---|---:|---|---|",
        "| a | 1 | 0.5 | yes |",
        "| b | 2 |  | no |",
    ]
