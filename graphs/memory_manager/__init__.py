"""The ``memory_manager`` graph: debounced, loss-free long-term memory extraction."""

from graphs.memory_manager.context import Context
from graphs.memory_manager.graph import graph

__all__ = ["Context", "graph"]
