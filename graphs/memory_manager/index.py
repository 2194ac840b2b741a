"""The store index's embedder: ``"embed": "./graphs/memory_manager/index.py:embeddings"``.

The server loads this file by path when it starts. ``MEMORY_EMBEDDINGS`` is
checked here, so a missing ``embeddings`` extra stops the server at start-up
with a clear message; the model itself loads on the first text embedded.
"""

from graphs.memory_manager.embeddings import ConfiguredEmbeddings

__all__ = ["embeddings"]

embeddings = ConfiguredEmbeddings()
"""The server's embedder (``MEMORY_EMBEDDINGS``; default: the offline all-MiniLM-L6-v2)."""
