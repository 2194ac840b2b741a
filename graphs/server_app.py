"""HTTP app mounted on the LangGraph server through ``langgraph.json``'s ``http.app``.

It serves the inspector page at ``/inspector/`` (:mod:`graphs.inspector`), and
its lifespan runs the idle-thread sweeper
(:mod:`graphs.sweeper`) next to the server, talking to it through
``langgraph_sdk.get_client()``'s in-process transport, so no port, URL or
credential is involved. Its middleware (:class:`GuardRequests`), which the
server applies to every route, checks what the server itself does not: where a
cross-site request comes from, who may read the API's meta routes, body size
and nesting, and a run's or cron's ``after_seconds`` (negative is taken as
"now", a huge one is an HTTP 500 from the dev server) and that its input is an
object. What the input holds is checked by the graph (``gather``), which fails
the run naming the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphs import access, filter_patch, openapi
from graphs.auth import presented_key
from graphs.capture import Capture, Capturer, capture_thread, plan_capture
from graphs.inspector import ROUTES as INSPECTOR_ROUTES
from graphs.memory_manager.embeddings import warm_up_index
from graphs.redelivery import Redeliverer, RedeliverySettings, run_redeliverer
from graphs.sweeper import SweepSettings, run_sweeper
from sdk_client.contract import GRAPH_ID, META_PATH, validate_after_seconds
from sdk_client.errors import InvalidPayloadError

__all__ = [
    "META_PATH",
    "GuardRequests",
    "ServerApp",
    "app",
    "body_error",
    "request_error",
    "run_request_error",
]

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
    openapi.install()
    filter_patch.apply()
    tasks = [t for t in (_sweeper_task(), _redelivery_task()) if t is not None]
    try:
        await warm_up
        frozen = tune_collector()
        logger.info("memory-reflect: %d start-up objects frozen out of GC passes", frozen)
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


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


def _sweeper_task() -> asyncio.Task[None] | None:
    settings = SweepSettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: thread sweeper off (MEMORY_THREAD_TTL_MINUTES=0)")
        return None
    logger.info(
        "memory-reflect: deleting threads idle > %s min, checking every %s s",
        settings.thread_ttl_minutes,
        settings.interval_seconds,
    )
    return asyncio.create_task(run_sweeper(get_client(), settings), name="memory-sweeper")


def _redelivery_task() -> asyncio.Task[None] | None:
    settings = RedeliverySettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: redelivery off (MEMORY_REDELIVERY_ATTEMPTS=0)")
        return None
    logger.info(
        "memory-reflect: redelivering stranded work after %s s, up to %d attempts",
        settings.grace_seconds,
        settings.attempts,
    )
    redeliverer = Redeliverer(get_client(), _runs_as, settings)
    return asyncio.create_task(run_redeliverer(redeliverer, settings), name="memory-redelivery")


_AS_CLIENTS: dict[str | None, LangGraphClient] = {}


async def _runs_as(identity: str | None) -> LangGraphClient:
    """An in-process client whose requests authenticate as ``identity`` (the redeliverer's).

    Unlike ``get_client()``'s loopback, which skips authentication, these requests pass
    through it, so the server stamps the owner's identity on the runs they create.
    """
    if identity not in _AS_CLIENTS:
        from langgraph_api.server import app as server  # type: ignore[import-untyped]

        headers = {access.INTERNAL_HEADER: access.INTERNAL_SECRET}
        if identity is not None:
            headers[access.AS_HEADER] = identity
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server),
            base_url="http://memory-reflect.internal",
            headers=headers,
            timeout=httpx.Timeout(30.0),
        )
        _AS_CLIENTS[identity] = LangGraphClient(http)
    return _AS_CLIENTS[identity]


# Run and cron creation: POST /runs, /runs/wait, /runs/stream, /runs/batch, /runs/crons and
# the same under /threads/{id}; PATCH /runs/crons/{id}.
_RUN_CREATE = re.compile(r"^(/threads/[^/]+)?/runs(/wait|/stream|/batch|/crons)?/?$")
_CRON_PATCH = re.compile(r"^/runs/crons/[^/]+/?$")
_CRONS = re.compile(r"^(/threads/[^/]+)?/runs/crons/?$")
# Platform routes that say something about the server's contents (run counts, the API);
# anonymous only in open mode. /ok and /info stay anonymous: health checks need them.
_KEYED_META = ("/metrics", "/docs", "/openapi.json")
# The in-memory runtime's own maintenance routes: /internal/truncate wipes every user's
# data, /deploy runs `langgraph deploy`. Nobody's business on a server with several users.
_DEV_ONLY = re.compile(r"^/(internal|deploy)(/|$)")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def run_request_error(body: Any) -> str | None:
    """What is wrong with a run- or cron-creation request body, or None.

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


def _checks_runs(method: str, path: str) -> bool:
    return (method == "POST" and bool(_RUN_CREATE.match(path))) or (
        method == "PATCH" and bool(_CRON_PATCH.match(path))
    )


class _TooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None if the client went away; :class:`_TooLarge` past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


_UNPARSED = object()


def parse_body(raw: bytes, method: str, path: str) -> tuple[Any, str | None]:
    """The JSON body (``_UNPARSED`` if it is not JSON) and what is wrong with it, or None.

    Malformed JSON is not an error here: the server gives its own 422 for it.
    """
    if not raw.strip():
        return _UNPARSED, None
    try:
        body = json.loads(raw)
    except RecursionError:
        return _UNPARSED, "body: JSON nested too deeply"
    except ValueError:
        return _UNPARSED, None
    return body, request_error(method, path, body)


def body_error(raw: bytes, method: str, path: str) -> str | None:
    """What is wrong with a request body, or None."""
    return parse_body(raw, method, path)[1]


def request_error(method: str, path: str, body: Any) -> str | None:
    """What is wrong with a parsed request body that the server would not say itself, or None.

    Each check stands for a request the server would otherwise answer with a 500
    (found by the API fuzzer, ``make fuzz``), or one it would accept and fail later.
    """
    path = path.rstrip("/") or "/"
    if _checks_runs(method, path):
        if (error := run_request_error(body)) is not None:
            return error
        if isinstance(body, dict) and (method == "PATCH" or _CRONS.match(path)):
            return _schedule_error(body.get("schedule"), required=method == "POST")
        return None
    if path == "/store/items/search" and method == "POST" and isinstance(body, dict):
        if not isinstance(body.get("namespace_prefix"), list):
            return "namespace_prefix: required, a list of labels ([] searches everything)"
        if body.get("query") == "":
            return "query: must not be empty (leave it out to list the items)"
    return None


def _schedule_error(schedule: Any, *, required: bool) -> str | None:
    """A cron's ``schedule``: a cron expression; the in-memory runtime fails on anything else."""
    if schedule is None:
        return "schedule: required, a cron expression such as '0 9 * * *'" if required else None
    if not isinstance(schedule, str) or not _valid_cron(schedule):
        return f"schedule: expected a cron expression such as '0 9 * * *', got {schedule!r}"
    return None


def _valid_cron(schedule: str) -> bool:
    try:
        from croniter import croniter  # type: ignore[import-untyped]  # the server parses with it
    except ImportError:  # not on a LangGraph server: only the type is checked
        return bool(schedule.strip())
    return bool(croniter.is_valid(schedule))


class GuardRequests:
    """ASGI middleware: what the server does not check itself, before its handlers run.

    ``langgraph.json`` sets ``http.middleware_order: auth_first``, so on the API's
    routes this runs after authentication: an anonymous caller is refused before
    any body is read. It refuses (in this order): a cross-site request from an
    origin ``http.cors`` does not list (403); in keyed mode, the dev server's
    ``/internal/*`` and ``/deploy`` routes (403) and an anonymous request to
    ``/metrics``, ``/docs`` or ``/openapi.json`` (401); a body larger than
    ``MEMORY_MAX_BODY_BYTES`` (413); JSON nested too deeply to parse (422); a run
    or cron with a bad ``after_seconds`` or a non-object ``input`` (422).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on untouched (body replayed) when it is fine."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _refusal(scope)
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        if scope["method"] not in _BODY_METHODS:
            await _keeping_http_errors(self.app, scope, receive, send)
            return
        limit = access.ACCESS.max_body_bytes
        try:
            if _content_length(scope) > limit:
                raise _TooLarge
            raw = await _read_body(receive, limit)
        except _TooLarge:
            detail = f"request body larger than {limit} bytes ({access.MAX_BODY_VAR})"
            await _send_json(send, 413, detail)
            return
        if raw is None:
            return
        body, error = parse_body(raw, scope["method"], scope["path"])
        if error is None and (tid := capture_thread(scope["method"], scope["path"], body)):
            try:
                scope, raw, send = await _capture(scope, send, raw, tid, body)
            except InvalidPayloadError as err:
                error = str(err)
        if error is not None:
            await _send_json(send, 422, error)
            return
        try:
            await _keeping_http_errors(self.app, scope, _replay(raw, receive), send)
        except BaseException:
            # Not found, conflict...: raised here, answered by the server's exception
            # handlers outside this middleware, so the wrapped send never saw the status.
            if isinstance(send, _UndoOnFailure):
                await send.failed()
            raise


async def _keeping_http_errors(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Call ``app``; an error raised while unwinding from an HTTP error gives that HTTP error.

    Why: the Postgres runtime's ``GET /threads/{id}/runs/{id}`` reads the thread and the
    run at once on one database session. When the thread read answers 404 (not there,
    or another user's), closing the session under the still-running run read raises
    SQLAlchemy's ``IllegalStateChangeError``, and the caller got a 500 instead of the
    404 the server meant (``docs/scaling-out.md``).
    """
    try:
        await app(scope, receive, send)
    except HTTPException:
        raise
    except Exception as exc:
        meant = _http_error_behind(exc)
        if meant is None:
            raise
        raise meant from None


def _http_error_behind(exc: BaseException) -> HTTPException | None:
    """The HTTP error ``exc`` was raised while handling, if any (not ``exc`` itself)."""
    seen: set[int] = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, HTTPException):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


@functools.cache
def _capturer() -> Capturer:
    # Built on first use: get_client() finds the server app only once it exists.
    from langgraph_api.store import get_store  # type: ignore[import-untyped]

    return Capturer(get_client(), get_store)


async def _capture(
    scope: Scope, send: Send, raw: bytes, thread_id: str, body: dict[str, Any]
) -> tuple[Scope, bytes, Send]:
    """Write a memory-graph run's input to the inbox first (:mod:`graphs.capture`).

    Returns the request to pass on: the body with the entry's ``submission_id``, and a
    ``send`` that deletes the entry again if the server does not create the run.
    """
    capturer = _capturer()
    prefix = _store_prefix(scope)
    if prefix is None or not await capturer.is_memory_graph(body.get("assistant_id")):
        return scope, raw, send
    capture = plan_capture(thread_id, body, prefix, time.time())
    raw = json.dumps(capture.body).encode()
    if not await capturer.write(capture):
        return _with_length(scope, len(raw)), raw, send
    return _with_length(scope, len(raw)), raw, _UndoOnFailure(send, capturer, capture)


class _UndoOnFailure:
    """A ``send`` that deletes a captured entry if the server answers with an error."""

    def __init__(self, send: Send, capturer: Capturer, capture: Capture) -> None:
        self._send = send
        self._capturer = capturer
        self._capture = capture
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            if message["status"] >= 400:
                await self._capturer.undo(self._capture)
        await self._send(message)

    async def failed(self) -> None:
        """The app raised before answering (an HTTP error handled further out): undo."""
        if not self.started:
            await self._capturer.undo(self._capture)


def _store_prefix(scope: Scope) -> tuple[str, ...] | None:
    """The caller's store prefix: ``()`` open, ``(identity,)`` keyed, None for the operator."""
    settings = access.ACCESS
    if not settings.keyed:
        return ()
    identity = getattr(scope.get("user"), "identity", None)
    return (identity,) if identity in settings.identities else None


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _content_length(scope: Scope) -> int:
    try:
        return int(_header(scope, b"content-length") or 0)
    except ValueError:
        return 0


def _refusal(scope: Scope) -> tuple[int, str] | None:
    origin = _header(scope, b"origin")
    if origin is not None and not _origin_allowed(scope, origin):
        return 403, f"origin {origin!r} is not allowed (langgraph.json http.cors)"
    if access.ACCESS.keyed and _DEV_ONLY.match(scope["path"]):
        return 403, f"dev-server maintenance route: off while {access.KEYS_VAR} is set"
    if access.ACCESS.keyed and scope["path"].rstrip("/") in _KEYED_META:
        headers = {bytes(k): bytes(v) for k, v in scope.get("headers") or ()}
        key = presented_key(headers)
        if key is None or access.ACCESS.identity_for(key) is None:
            return 401, "missing or unknown API key"
    return None


def _origin_allowed(scope: Scope, origin: str) -> bool:
    """Same-origin (the inspector page), or an origin the CORS settings list."""
    host = _header(scope, b"host")
    if host is not None and origin == f"{scope.get('scheme', 'http')}://{host}":
        return True
    allowed = allowed_origins()
    return "*" in allowed or origin in allowed


@functools.cache
def allowed_origins() -> tuple[str, ...]:
    """The origins the server's CORS settings allow (``http.cors``, else ``CORS_ALLOW_ORIGINS``).

    Outside a LangGraph server (unit tests) there are none: only same-origin requests pass.
    """
    try:
        from langgraph_api import config  # type: ignore[import-untyped]
    except (ImportError, KeyError):  # KeyError: the platform's settings are not in the env
        return ()
    if config.CORS_CONFIG is not None:
        return tuple(config.CORS_CONFIG.get("allow_origins") or ())
    return tuple(config.CORS_ALLOW_ORIGINS)


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


async def _send_json(send: Send, status: int, detail: str) -> None:
    data = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def meta(_request: Request) -> Response:
    """This server's memory-reflect features, for clients that adapt to them.

    ``capture``: runs on the memory graph have their input written to the inbox by the
    server (:mod:`graphs.capture`), so a client needs one request per submission. A
    server without this route (no ``http.app``, e.g. the langhost runtime) has none of it.
    """
    settings = RedeliverySettings.from_env()
    return JSONResponse(
        {
            "graph_id": GRAPH_ID,
            "capture": True,
            "redelivery": {"attempts": settings.attempts, "grace_seconds": settings.grace_seconds},
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
    middleware=[Middleware(GuardRequests)],
)
