"""The long-term memory store on the Postgres runtime, with ``langgraph.json``'s index.

Why this module exists: ``langgraph-runtime-pg`` 0.11.1 builds its store as
``AsyncPostgresStore(pool)`` and never passes ``store.index`` (nor ``store.ttl``)
from ``langgraph.json``, so even on a Postgres with pgvector every search there was
a listing, not a ranking, and the LLM path's search of a user's existing memories
was not semantic. ``store.path`` is langgraph-api's documented way to serve another
store; the derived config of ``deploy/local_cluster.py`` points it here, and
``langgraph dev`` never loads this module (its in-memory store takes the index itself).

The store is the same class and the same tables the runtime uses, plus the pgvector
table the index needs (``CREATE EXTENSION vector`` on first setup: the database needs
pgvector, which the cluster's bundled Postgres has). Since the server skips its own
TTL sweeper for a store it did not build, this one starts it when ``store.ttl`` asks.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

__all__ = ["store", "store_settings"]

logger = logging.getLogger(__name__)


def store_settings(
    store_config: Mapping[str, Any] | None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``index`` and ``ttl`` settings of ``langgraph.json``'s ``store`` section.

    ``index.embed`` is resolved to an embeddings object the way the server resolves it.
    """
    config = dict(store_config or {})
    index = dict(config["index"]) if config.get("index") else None
    if index is not None:
        from langgraph_api.graph import resolve_embeddings  # type: ignore[import-untyped]

        index["embed"] = resolve_embeddings(index)
    ttl = dict(config["ttl"]) if config.get("ttl") else None
    return index, ttl


def _database_uri() -> str:
    uri = os.environ.get("DATABASE_URI")
    if not uri:
        raise RuntimeError("the Postgres store needs DATABASE_URI (set by the runtime)")
    # psycopg takes postgresql://; the runtime also accepts postgres:// and +driver forms.
    scheme, sep, rest = uri.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else uri


@contextlib.asynccontextmanager
async def store() -> AsyncIterator[Any]:
    """An ``AsyncPostgresStore`` with the configured index and TTL, for the server's lifetime."""
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from langgraph_api import config  # type: ignore[import-untyped]

    index, ttl = store_settings(config.STORE_CONFIG)
    async with AsyncPostgresStore.from_conn_string(
        _database_uri(),
        # A pool, as the runtime's own store has (1 to 10 connections): one connection
        # would serialise every store call of the process's concurrent runs and requests.
        pool_config={"min_size": 1, "max_size": 10},
        index=index,
        ttl=ttl,
    ) as pg_store:
        await pg_store.setup()
        if ttl is not None:
            await pg_store.start_ttl_sweeper()
        logger.info(
            "memory-reflect: Postgres store with %s",
            f"vector index ({index['dims']} dims)" if index else "no vector index",
        )
        try:
            yield pg_store
        finally:
            if ttl is not None:
                with contextlib.suppress(Exception):
                    await pg_store.stop_ttl_sweeper()
