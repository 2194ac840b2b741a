"""The HTTP app mounted on the LangGraph server through ``langgraph.json``'s ``http.app``.

Its routes: ``/reflect/meta`` (which memory-reflect features this server has) and the
inspector (:mod:`graphs.server.inspector`). Its middleware, which the server applies to
every route, is the request guard (:mod:`graphs.server.guard`), which also captures a
memory-graph run's input (:mod:`graphs.server.capture`), and the use recorder
(:mod:`graphs.server.uses`). Its lifespan warms the store
index, patches what the runtime needs patched, publishes the API's description
(:mod:`graphs.server.openapi`) and runs the background jobs (:mod:`graphs.server.jobs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from graphs.memory_manager.context import Context
from graphs.memory_manager.embeddings import warm_up_index
from graphs.server import access, copy_patch, filter_patch, history_patch, openapi, scan_patch
from graphs.server.guard import GuardRequests
from graphs.server.inspector import ROUTES as INSPECTOR_ROUTES
from graphs.server.jobs import start_jobs, stop_jobs
from graphs.server.redelivery import RedeliverySettings
from graphs.server.uses import RecordUses, UseSettings
from sdk_client.contract import GRAPH_ID, META_PATH
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import DEFAULT_HISTORY_DAYS

__all__ = ["META_PATH", "ServerApp", "app", "lifespan", "tune_collector"]

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    """Say which access mode the server is in; run the sweeper and the redeliverer meanwhile.

    The store index's embedder loads first, in a thread, while the rest starts; the
    server answers once it is loaded, so no run waits for it (the first run on a fresh
    server is as fast as the tenth). Then the garbage collector is settled for a
    long-running server (:func:`tune_collector`).
    """
    warm_up = asyncio.create_task(asyncio.to_thread(warm_up_index), name="memory-embedder")
    access.ACCESS.announce()
    UseSettings.from_env()  # a malformed setting stops the start, not every later store read
    openapi.install()
    filter_patch.apply()
    copy_patch.apply()
    history_patch.apply()
    scan_patch.apply()
    tasks = start_jobs()
    try:
        await warm_up
        frozen = tune_collector()
        logger.info("memory-reflect: %d start-up objects frozen out of GC passes", frozen)
        yield
    finally:
        await stop_jobs(tasks)


GC_THRESHOLDS = (10_000, 10, 10)
"""The collector's thresholds once the server has started (Python's own: 700, 10, 10)."""


def tune_collector() -> int:
    """Settle the garbage collector for a long-running server; how many objects were frozen.

    Why, measured in 400-run waves on 2 cores (``docs/benchmarks.md``, "What a run
    costs the server"):

    - *Freeze what start-up loaded.* The server's modules, the embedder's packages
      (torch, transformers) and the model live as long as the process: ~550,000
      objects, and every full collection walked all of them (~0.35 s of CPU each).
      Frozen, a full pass walks only what the server made since. Garbage is collected
      first, so nothing already unreachable is kept.
    - *Collect the young generation every 10,000 allocations, not 700.* A run allocates
      tens of thousands of short-lived objects (requests, checkpoints, model replies):
      at 700 the collector ran ~3 times an LLM-path run, and the older generations'
      counts started a full pass every 60-200 runs. The collector's CPU in a wave of
      LLM-path runs: 0.90 s as Python sets it, 0.50 s frozen, 0.07 s frozen and at
      10,000 (2.2, 1.2 and 0.2 ms a run). Only cyclic garbage waits longer; everything
      else is freed when its last reference goes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return gc.get_freeze_count()


async def meta(_request: Request) -> Response:
    """This server's memory-reflect features, for clients that adapt to them.

    ``capture``: runs on the memory graph have their input written to the inbox by the
    server (:mod:`graphs.server.capture`), so a client needs one request per submission. A
    server without this route (no ``http.app``, e.g. the langhost runtime) has none of it.
    ``history``: how long a memory's history is kept by default (``MEMORY_HISTORY_DAYS``),
    which a client's own changes (an undo) are kept for too. ``extraction``: ``llm`` when
    runs call a chat model by default (``MEMORY_MODEL``), else ``offline``; what
    ``memory-reflect backfill --dry-run`` estimates tokens for (the model's name stays
    private: this route is anonymous).
    """
    settings = RedeliverySettings.from_env()
    try:
        context = Context()
        history_days, extraction = context.history_days, "llm" if context.model else "offline"
    except InvalidPayloadError:  # a malformed MEMORY_* variable: every run names it
        history_days, extraction = DEFAULT_HISTORY_DAYS, "offline"
    return JSONResponse(
        {
            "graph_id": GRAPH_ID,
            "capture": True,
            "redelivery": {"attempts": settings.attempts, "grace_seconds": settings.grace_seconds},
            "history": {"days": history_days},
            "extraction": extraction,
        }
    )


class ServerApp(Starlette):
    """The mounted app: a ``Starlette`` whose lifespan skips the middleware stack.

    Why: langgraph-api adds its ``EnsureStoreAccessible`` middleware to a custom app,
    and that middleware fetches the store on the first scope it sees, which is the
    lifespan's. The in-memory runtime has a store before its lifespan starts; the
    Postgres runtime opens its pool *in* that lifespan, so the fetch failed, uvicorn
    took the lifespan as unsupported and every request answered 500
    (``docs/scaling-out.md``). No middleware of ours or the server's acts on a lifespan
    scope (each passes it through), so the router gets it directly; HTTP requests go
    through the whole stack, by when the store exists on every runtime.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan straight to the router (it runs the combined lifespans), the rest as usual."""
        if scope["type"] == "lifespan":
            scope["app"] = self
            await self.router(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


app = ServerApp(
    lifespan=lifespan,
    routes=[Route(META_PATH, meta, methods=["GET"]), *INSPECTOR_ROUTES],
    # The use recorder inside the guard: only requests the guard let through are uses.
    middleware=[Middleware(GuardRequests), Middleware(RecordUses)],
)
