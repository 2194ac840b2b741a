"""The request guard: what the LangGraph server does not check itself, before its handlers run.

:class:`GuardRequests` is the mounted app's middleware (:mod:`graphs.server.app`), which
the server applies to every route. It checks where a cross-site request comes from,
who may read the API's meta routes, body size and nesting, a run's or cron's
``after_seconds`` (negative is taken as "now", a huge one is an HTTP 500 from the dev
server) and that its input is an object, a cron's schedule and a store search's
prefix and query; each check stands for a request the server would otherwise answer
with a 500 or accept and fail later. What a run's input holds is checked by the graph
(``gather``), which fails the run naming the field. A run on the memory graph passes
through capture (:mod:`graphs.server.capture`) on its way in.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphs.server import access
from graphs.server.auth import presented_key
from graphs.server.capture import UndoOnFailure, capture_request, capture_thread
from sdk_client.contract import validate_after_seconds
from sdk_client.errors import InvalidPayloadError

__all__ = [
    "GuardRequests",
    "allowed_origins",
    "body_error",
    "parse_body",
    "request_error",
    "run_request_error",
]


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
                scope, raw, send = await capture_request(scope, send, raw, tid, body)
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
            if isinstance(send, UndoOnFailure):
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
