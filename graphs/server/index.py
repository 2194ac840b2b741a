"""The store index's embedder: ``"embed": "./graphs/server/index.py:embeddings"``.

The server loads this file by path when it starts. ``MEMORY_EMBEDDINGS`` is
checked here, so a missing ``embeddings`` extra stops the server at start-up
with a clear message; the model itself loads on the first text embedded.

Loading it also applies :mod:`graphs.server.store_patch` (langgraph#8822): the server
loads the embedder just before it builds its in-memory store, in the process
that runs the graph, so the store is patched before any run writes to it.
"""

from graphs.memory_manager.embeddings import serve_index
from graphs.server import store_patch

__all__ = ["embeddings"]

store_patch.apply()

embeddings = serve_index()
"""The server's embedder (``MEMORY_EMBEDDINGS``; default: the offline all-MiniLM-L6-v2)."""
