"""Builds the ``memory_manager`` graph: gather → extract → commit.

Deployed through ``langgraph.json`` as graph id ``memory_manager``; clients
create deferred runs on it with ``multitask_strategy="rollback"``, so only the
last run of a burst executes, and ``gather`` recovers the superseded turns
from the thread's inbox.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.memory_manager.commit import commit
from graphs.memory_manager.context import Context
from graphs.memory_manager.extract import extract
from graphs.memory_manager.gather import gather
from graphs.memory_manager.state import InputState, OutputState, State

__all__ = ["builder", "graph"]

builder = StateGraph(
    State, context_schema=Context, input_schema=InputState, output_schema=OutputState
)
builder.add_node("gather", gather)
builder.add_node("extract", extract)
builder.add_node("commit", commit)
builder.add_edge(START, "gather")
builder.add_edge("gather", "extract")
builder.add_edge("extract", "commit")
builder.add_edge("commit", END)

graph = builder.compile()
graph.name = "memory_manager"
