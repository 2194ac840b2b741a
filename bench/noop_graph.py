"""A graph that does nothing: the server's own cost of a run, for ``bench.run_cost``.

Bench-only: deployed beside ``memory_manager`` through a langgraph config the
bench writes to a temporary directory, never through the product's ``langgraph.json``.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

__all__ = ["GRAPH_ID", "graph"]

GRAPH_ID = "noop"


class _State(TypedDict, total=False):
    messages: list[dict[str, Any]]


def _nothing(state: _State) -> dict[str, Any]:
    return {}


_builder = StateGraph(_State)
_builder.add_node("nothing", _nothing)
_builder.add_edge(START, "nothing")
_builder.add_edge("nothing", END)
graph = _builder.compile()
