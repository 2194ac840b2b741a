"""Routes of the inspector: the page, its static files and two contract look-ups.

``GET /`` serves the page; ``GET /static/...`` its script and style;
``GET /api/meta`` the names the page needs (graph id, inbox and receipts
labels); ``GET /api/resolve?thread_id=...`` or ``?namespace=...`` turns what
the user typed into the server's thread UUID or a namespace, with the
contract's own error message (naming the field) when it is malformed;
``GET /api/whoami`` checks the request's API key with the server's own auth
handler and says which namespace prefix the store adds for it (the page
strips it from what it shows and sends). None of them touches threads, runs
or the store.
"""

from __future__ import annotations

from pathlib import Path

from langgraph_sdk import Auth
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graphs.server import access
from graphs.server.auth import authenticate, presented_key
from sdk_client.contract import GRAPH_ID, parse_namespace, validate_thread_id
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import (
    DELIVERY_KEY,
    DELIVERY_LABEL,
    HISTORY_LABEL,
    INBOX_LABEL,
    RECEIPTS_LABEL,
    RECORD_LABELS,
)

__all__ = ["GRAPH_ID", "ROUTES", "STATIC_DIR", "app", "parse_namespace"]


STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The page's files, shipped as package data."""

# The page changes with the package; a stale cached copy would talk to a newer server.
_NO_CACHE = {"Cache-Control": "no-cache"}


async def index(_request: Request) -> Response:
    """The page itself."""
    return FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)


async def meta(_request: Request) -> Response:
    """Names the page needs from the contract, so it does not hard-code them."""
    return JSONResponse(
        {
            "graph_id": GRAPH_ID,
            "inbox_label": INBOX_LABEL,
            "receipts_label": RECEIPTS_LABEL,
            "delivery_label": DELIVERY_LABEL,
            "delivery_key": DELIVERY_KEY,
            "history_label": HISTORY_LABEL,
            # Every record's label: the memories view lists no namespace holding one.
            "record_labels": sorted(RECORD_LABELS),
        },
        headers=_NO_CACHE,
    )


async def resolve(request: Request) -> Response:
    """The server thread id for ``?thread_id=``, or the labels of ``?namespace=``."""
    params = request.query_params
    try:
        if "thread_id" in params:
            key = params["thread_id"]
            # Keyed servers: the same mapping the caller's own client makes with its key.
            headers = {k.encode(): v.encode() for k, v in request.headers.items()}
            tid = validate_thread_id(key, api_key=presented_key(headers))
            return JSONResponse({"thread_id": tid, "key": key})
        if "namespace" in params:
            return JSONResponse({"namespace": list(parse_namespace(params["namespace"]))})
    except InvalidPayloadError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse({"error": "pass ?thread_id=... or ?namespace=..."}, status_code=400)


async def whoami(request: Request) -> Response:
    """The caller's identity and store prefix, as the auth handler sees its key; 401 if refused."""
    headers = {k.encode(): v.encode() for k, v in request.headers.items()}
    try:
        user = await authenticate(headers)
    except Auth.exceptions.HTTPException as err:
        return JSONResponse({"error": err.detail}, status_code=err.status_code)
    identity = str(user["identity"])
    scoped = identity in access.ACCESS.identities
    return JSONResponse(
        {"identity": identity, "prefix": [identity] if scoped else []}, headers=_NO_CACHE
    )


app = Starlette(
    routes=[
        Route("/", index, methods=["GET"]),
        Route("/api/meta", meta, methods=["GET"]),
        Route("/api/resolve", resolve, methods=["GET"]),
        Route("/api/whoami", whoami, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
)
"""The inspector as an ASGI app; :mod:`graphs.server.app` mounts it at ``/inspector``."""


async def _to_page(_request: Request) -> Response:
    # Relative: an absolute URL would be built from the request's Host header, which the
    # caller chooses (an open redirect).
    return RedirectResponse("inspector/")


ROUTES = [Route("/inspector", _to_page, methods=["GET"]), Mount("/inspector", app=app)]
"""What :mod:`graphs.server.app` adds to its routes: the page at ``/inspector/``."""
