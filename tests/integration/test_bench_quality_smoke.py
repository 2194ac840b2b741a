"""A tiny run of the quality benchmark (one user) on the shared indexed server."""

from __future__ import annotations

import json

import pytest

from bench.quality import DATA, evaluate
from bench.tables import QUALITY_COLUMNS, table

pytestmark = pytest.mark.integration


def test_quality_smoke(server):
    data = json.loads(DATA.read_text())
    data["users"] = data["users"][:1]
    row = evaluate(server.url, data, "semantic index (MiniLM)")
    assert "| store |" in table([row], QUALITY_COLUMNS)
    (user,) = row["users"]
    # Correctness, not timing: restatements collapse and contradictions resolve.
    assert user["duplicates"] == 0
    assert user["kept"] == user["facts"]
    assert user["resolved"] == user["contradictions"]
