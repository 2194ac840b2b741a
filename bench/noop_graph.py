"""Graphs that do nothing: the server's own cost of a run, for ``bench.run_cost``.

``graph`` has one step; ``three_steps`` has as many as ``memory_manager``, so that the
difference is what a step costs (``bench.run_parts``).

Bench-only: deployed beside ``memory_manager`` through a langgraph config the
bench writes to a temporary directory, never through the product's ``langgraph.json``.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

__all__ = ["GRAPH_ID", "THREE_STEPS_ID", "graph", "three_steps"]

GRAPH_ID = "noop"
THREE_STEPS_ID = "noop-three-steps"


class _State(TypedDict, total=False):
    messages: list[dict[str, Any]]


def _nothing(state: _State) -> dict[str, Any]:
    return {}


def _chain(*steps: str) -> Any:
    builder = StateGraph(_State)
    for step in steps:
        builder.add_node(step, _nothing)
    for before, after in zip((START, *steps), (*steps, END), strict=True):
        builder.add_edge(before, after)
    return builder.compile()


graph = _chain("nothing")
three_steps = _chain("first", "second", "third")
