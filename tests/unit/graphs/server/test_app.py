"""The mounted app: its lifespan on every runtime, and the collector it settles."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from graphs.server.app import GC_THRESHOLDS, ServerApp, app, tune_collector


def test_the_collector_leaves_the_start_up_heap_alone_and_runs_less_often():
    import gc

    alive: list[object] = []  # a container: one the collector tracks
    thresholds = gc.get_threshold()
    try:
        frozen = tune_collector()
        assert frozen == gc.get_freeze_count() > 0
        for generation in (0, 1, 2):  # so no collection walks it again
            assert not any(o is alive for o in gc.get_objects(generation=generation))
        assert gc.get_threshold() == GC_THRESHOLDS != thresholds
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


class _NeedsStore:
    """Like langgraph-api's EnsureStoreAccessible on the Postgres runtime: it asks for the
    store on the first scope it sees, and the store exists only once the lifespan ran."""

    store_ready = False

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not _NeedsStore.store_ready:
            raise RuntimeError("store not started")
        await self.app(scope, receive, send)


def test_the_lifespan_reaches_the_router_without_the_middleware_stack():
    from contextlib import asynccontextmanager

    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    @asynccontextmanager
    async def lifespan(_app):
        _NeedsStore.store_ready = True
        yield
        _NeedsStore.store_ready = False

    async def hello(_request):
        return PlainTextResponse("hello")

    served = ServerApp(
        lifespan=lifespan, routes=[Route("/", hello)], middleware=[Middleware(_NeedsStore)]
    )
    with TestClient(served) as http:  # a failed lifespan raises here
        assert http.get("/").text == "hello"
    assert not _NeedsStore.store_ready, "the lifespan's shutdown ran"
    # The plain Starlette app the server used to get fails at start-up instead.
    from starlette.applications import Starlette

    plain = Starlette(lifespan=lifespan, middleware=[Middleware(_NeedsStore)])
    with pytest.raises(RuntimeError, match="store not started"), TestClient(plain):
        pass
    assert isinstance(app, ServerApp)
