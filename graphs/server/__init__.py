"""What runs around the memory graph on the same LangGraph server.

The mounted HTTP app (:mod:`~graphs.server.app`: routes and lifespan), its request
guard (:mod:`~graphs.server.guard`), capture of every memory-graph run's input
(:mod:`~graphs.server.capture`), API keys and per-user isolation
(:mod:`~graphs.server.auth`, :mod:`~graphs.server.access`), the background jobs
(:mod:`~graphs.server.jobs`: redelivery and the sweeper), the inspector, the store's
index and the runtime patches. The graph itself is in :mod:`graphs.memory_manager`.
"""
