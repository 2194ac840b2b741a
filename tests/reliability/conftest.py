"""The reliability suite: faults against real ``langgraph dev`` servers, and their ledger.

Every test records one row per fault (:func:`record`): turns submitted, turns that
reached memory, duplicate memories, and errors the caller saw. At the end of the
session the rows are printed as a table and written as JSON (``$RELIABILITY_OUT``;
default ``bench/results/reliability.json`` for the full run, a temporary file for
the smoke run). ``RELIABILITY_FULL=1`` (``make reliability``) runs every fault at
full size; without it each runs small, within the default ``pytest`` run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from bench.machine import describe
from bench.tables import RELIABILITY_COLUMNS, table
from tests.reliability.support import server_env
from tests.server import ROOT, Server, run_server

FULL = os.environ.get("RELIABILITY_FULL", "") == "1"
"""Full size (``make reliability``) rather than the smoke size of the default run."""


@dataclass
class Row:
    """One fault's outcome."""

    fault: str
    submitted: int
    reached_memory: int
    duplicates: int
    errors_surfaced: str
    note: str = ""


ROWS: list[Row] = []


def record(
    fault: str,
    submitted: int,
    reached: int,
    duplicates: int,
    errors: str = "none",
    note: str = "",
) -> None:
    """Add a fault's row to the session's table."""
    ROWS.append(Row(fault, submitted, reached, duplicates, errors, note))


def scale(smoke: int, full: int) -> int:
    """``full`` under ``RELIABILITY_FULL=1``, else ``smoke``."""
    return full if FULL else smoke


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give full-size faults the time they need (the default per-test timeout is 300 s)."""
    if FULL:
        for item in items:
            if item.get_closest_marker("reliability"):
                item.add_marker(pytest.mark.timeout(1800))


@pytest.fixture(scope="session")
def rserver() -> Iterator[Server]:
    """A ``langgraph dev`` with the offline extractor, shared by the reliability tests."""
    with run_server(server_env(), jobs=10) as srv:
        yield srv


def _out_path() -> Path:
    if os.environ.get("RELIABILITY_OUT"):
        return Path(os.environ["RELIABILITY_OUT"])
    if FULL:
        return ROOT / "bench" / "results" / "reliability.json"
    return Path(tempfile.gettempdir()) / "memory-reflect-reliability.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the faults table and write it as JSON."""
    if not ROWS:
        return
    machine = describe()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    terminalreporter.section(f"reliability ({'full' if FULL else 'smoke'})")
    terminalreporter.write_line(f"{when}; {machine}")
    for line in table([asdict(r) for r in ROWS], RELIABILITY_COLUMNS).splitlines():
        terminalreporter.write_line(line)
    out = _out_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    body = {"date": when, "machine": machine, "full": FULL, "rows": [asdict(r) for r in ROWS]}
    out.write_text(json.dumps(body, indent=2) + "\n")
    terminalreporter.write_line(f"written to {out}")
