"""HTTP app mounted on the LangGraph server through ``langgraph.json``'s ``http.app``.

It serves the inspector page at ``/inspector/`` (:mod:`graphs.inspector`), and
its lifespan runs the idle-thread sweeper
(:mod:`graphs.sweeper`) next to the server, talking to it through
``langgraph_sdk.get_client()``'s in-process transport, so no port, URL or
credential is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from langgraph_sdk import get_client
from starlette.applications import Starlette

from graphs.inspector import ROUTES as INSPECTOR_ROUTES
from graphs.sweeper import SweepSettings, run_sweeper

__all__ = ["app"]

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    """Run the sweeper for as long as the server runs."""
    settings = SweepSettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: thread sweeper off (MEMORY_THREAD_TTL_MINUTES=0)")
        yield
        return
    logger.info(
        "memory-reflect: deleting threads idle > %s min, checking every %s s",
        settings.thread_ttl_minutes,
        settings.interval_seconds,
    )
    task = asyncio.create_task(run_sweeper(get_client(), settings), name="memory-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


app = Starlette(lifespan=lifespan, routes=INSPECTOR_ROUTES)
