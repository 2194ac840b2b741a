"""The README's Mermaid block is the graph as drawn now (`make graph` refreshes it)."""

from __future__ import annotations

import pytest

from graphs.memory_manager import draw
from tests.server import ROOT


def test_readme_block_matches_the_graph():
    readme = (ROOT / "README.md").read_text()
    assert draw.readme_block(draw.mermaid()) in readme, (
        "README.md's graph block is stale: run `make graph`"
    )


def test_drawing_names_every_step_with_its_description():
    diagram = draw.mermaid()
    for step in ("gather", "extract", "commit"):
        assert f"\t{step}({step}<hr/>" in diagram
    assert "gather --> extract" in diagram and "extract --> commit" in diagram


def test_replace_block_rewrites_only_between_markers():
    text = f"before\n{draw.BEGIN}\nold\n{draw.END}\nafter\n"
    diagram = "graph TD;\n"
    out = draw.replace_block(text, diagram)
    assert out == f"before\n{draw.readme_block(diagram)}\nafter\n"
    assert draw.replace_block(out, diagram) == out


def test_replace_block_without_markers_is_an_error():
    with pytest.raises(ValueError, match="graph:begin"):
        draw.replace_block("no markers here", "graph TD;\n")


def test_main_prints_the_diagram(capsys):
    assert draw.main([]) == 0
    assert capsys.readouterr().out == draw.mermaid()
