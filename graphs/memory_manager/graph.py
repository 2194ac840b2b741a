"""Builds the ``memory_manager`` graph: gather → extract → commit.

Deployed through ``langgraph.json`` as graph id ``memory_manager``; clients
create deferred runs on it with ``multitask_strategy="rollback"`` (``enqueue``
behind a run that is already running), so only the last run of a burst
executes, and ``gather`` recovers the superseded turns from the thread's inbox.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import TypeAdapter

from graphs.memory_manager.commit import commit
from graphs.memory_manager.context import Context
from graphs.memory_manager.extract import extract
from graphs.memory_manager.gather import gather
from graphs.memory_manager.state import InputState, OutputState, State
from sdk_client.contract import GRAPH_ID

__all__ = ["builder", "graph"]

builder = StateGraph(
    State, context_schema=Context, input_schema=InputState, output_schema=OutputState
)
# Descriptions travel with the drawing (``/assistants/{id}/graph`` in Studio, and
# ``python -m graphs.memory_manager.draw``), so each step says what it does.
builder.add_node(
    "gather",
    gather,
    metadata={
        "description": "the run's input plus the thread's inbox (superseded turns), minus "
        "messages processed before, grouped by memory namespace"
    },
)
builder.add_node(
    "extract",
    extract,
    metadata={
        "description": "decide memory writes per namespace (offline rules, or langmem with "
        "the chat model); only staged"
    },
)
builder.add_node(
    "commit",
    commit,
    metadata={
        "description": "apply the staged writes, write a receipt per submission, then delete "
        "the inbox entries gathered"
    },
)
builder.add_edge(START, "gather")
builder.add_edge("gather", "extract")
builder.add_edge("extract", "commit")
builder.add_edge("commit", END)


@functools.cache
def _context_jsonschema(schema: type) -> dict[str, Any]:
    return TypeAdapter(schema).json_schema()


class _MemoryGraph(CompiledStateGraph[State, Context, InputState, OutputState]):
    """The compiled graph, whose context's JSON schema is rendered once per process.

    The server asks every run's graph for it (to filter the run's context by it) and
    langgraph has pydantic render it afresh each time: ~0.8 ms of CPU a run, a sixth of
    what a run of an empty graph costs the server in all (``bench/run_cost.py``).
    """

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """The JSON schema of :class:`Context` (a copy: callers may change theirs)."""
        if self.context_schema is not Context:
            return super().get_context_jsonschema()
        return copy.deepcopy(_context_jsonschema(Context))


# The server copies the graph for each run by its class (``Pregel.copy``), so the
# schema cache travels with every copy.
_compiled = builder.compile()
graph = _MemoryGraph(**{k: v for k, v in vars(_compiled).items() if k != "__orig_class__"})
graph.name = GRAPH_ID
