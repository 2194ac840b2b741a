"""Builds the ``memory_manager`` graph: gather → extract → commit.

Deployed through ``langgraph.json`` as graph id ``memory_manager``; clients
create deferred runs on it with ``multitask_strategy="rollback"`` (``enqueue``
behind a run that is already running), so only the last run of a burst
executes, and ``gather`` recovers the superseded turns from the thread's inbox.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

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

graph = builder.compile()
graph.name = GRAPH_ID
