"""A tiny ``python -m bench.scaleout`` (one process, 20 threads): the bench still runs."""

from __future__ import annotations

import json
import math

import pytest

from bench.scaleout import main

pytestmark = pytest.mark.scaleout


def test_scaleout_bench_smoke(tmp_path, capsys):
    out = tmp_path / "scaleout.json"
    assert main(["--wave", "20", "--wave-due-in", "5", "--processes", "1", "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())["wave"]
    assert row["processes"] == 1 and row["threads"] == 20
    assert math.isfinite(row["drain_s"]) and math.isfinite(row["start_lag_p50_s"])
    assert row["cpu_ms_per_run"] > 0 and row["noop_cpu_ms_per_run"] > 0
    assert "server CPU ms/run" in capsys.readouterr().out
