"""A tiny agent whose threads a backfill reads (``memory-reflect backfill --from-server``).

It answers every turn with the same line, as a chat agent's graph keeps its
conversation: LangChain messages in ``messages`` (``add_messages``), so the thread's
state holds the ``type``/``content``/``id`` dicts a real agent's does. Test-only: served
beside ``memory_manager`` through the config :func:`deploy.devserver.write_config`
writes, never through the product's ``langgraph.json``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph

__all__ = ["GRAPH_ID", "REPLY", "graph"]

GRAPH_ID = "chat_agent"
REPLY = "Noted, thanks."


def _answer(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(REPLY)]}


_builder = StateGraph(MessagesState)
_builder.add_node("answer", _answer)
_builder.add_edge(START, "answer")
_builder.add_edge("answer", END)
graph = _builder.compile()
