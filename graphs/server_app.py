"""HTTP app mounted on the LangGraph server through ``langgraph.json``'s ``http.app``.

It serves the inspector page at ``/inspector/`` (:mod:`graphs.inspector`), and
its lifespan runs the idle-thread sweeper
(:mod:`graphs.sweeper`) next to the server, talking to it through
``langgraph_sdk.get_client()``'s in-process transport, so no port, URL or
credential is involved. Its middleware, which the server applies to every
route, checks what the server itself does not: a run's ``after_seconds``
(negative is taken as "now", a huge one is an HTTP 500 from the dev server)
and that its input is an object. What the input holds is checked by the graph
(``gather``), which fails the run naming the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from langgraph_sdk import get_client
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphs.inspector import ROUTES as INSPECTOR_ROUTES
from graphs.sweeper import SweepSettings, run_sweeper
from sdk_client.contract import validate_after_seconds
from sdk_client.errors import InvalidPayloadError

__all__ = ["CheckRunRequests", "app"]

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


# POST /runs, /runs/wait, /runs/stream, /runs/batch and the same under /threads/{id}.
_RUN_CREATE = re.compile(r"^(/threads/[^/]+)?/runs(/wait|/stream|/batch)?/?$")


def run_request_error(body: Any) -> str | None:
    """What is wrong with a run-creation request body, or None.

    Only fields the server does not check itself; a body that is not JSON or
    not an object is left to the server, which answers 422 on its own.
    """
    for i, run in enumerate(body if isinstance(body, list) else [body]):
        error = _run_error(run) if isinstance(run, dict) else None
        if error is not None:
            return f"[{i}].{error}" if isinstance(body, list) else error
    return None


def _run_error(run: dict[str, Any]) -> str | None:
    # A non-object input otherwise fails inside LangGraph as "Expected dict, got ...".
    value = run.get("input")
    if value is not None and not isinstance(value, dict):
        return f"input: expected an object like {{'messages': [...]}}, got {type(value).__name__}"
    if run.get("after_seconds") is not None:
        try:
            validate_after_seconds(run["after_seconds"])
        except InvalidPayloadError as err:
            return str(err)
    return None


class CheckRunRequests:
    """ASGI middleware: refuse a run-creation request with a bad ``after_seconds`` (HTTP 422)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check run creations; pass everything else through untouched."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not _RUN_CREATE.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            error = run_request_error(json.loads(raw))
        except ValueError:  # not JSON, or not UTF-8: the server's own 422 says so
            error = None
        if error is not None:
            await _send_json(send, 422, {"detail": error})
            return
        await self.app(scope, _replay(raw, receive), send)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then defers to the original."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


app = Starlette(
    lifespan=lifespan, routes=INSPECTOR_ROUTES, middleware=[Middleware(CheckRunRequests)]
)
