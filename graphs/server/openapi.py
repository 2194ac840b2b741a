"""What ``/openapi.json`` says about the routes our mounted app adds.

Why this module exists: with any ``http.app`` mounted, langgraph-api 0.11 regenerates
a document from every route's docstring and merges it over its own, so the built-in
routes lost their path parameters (``GET /threads/{thread_id}`` declared no
``thread_id``) and internal routes (``/internal/*``, ``/deploy``, ``/ui/{graph_id}``)
were listed: client generators and schema-driven tools rejected it. Without a mounted
app the server serves its own, valid document. :func:`install` (called from the app's
lifespan) replaces the regenerated part with :data:`PATHS`: the built-in routes stay as
langgraph-api describes them, and ours are described here, with their parameters and
responses. ``tests/unit/graphs/server/test_openapi.py`` fails when the app gains a route this
does not describe.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from sdk_client.contract import META_PATH

__all__ = ["PATHS", "install", "spec"]

logger = logging.getLogger(__name__)

_TAG = "memory-reflect"


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


_STR = {"type": "string"}
_ERROR = _json("What is wrong with the request", _object(error=_STR))


def _get(summary: str, description: str, responses: dict[str, Any], **extra: Any) -> Any:
    return {
        "get": {
            "tags": [_TAG],
            "summary": summary,
            "description": description,
            "responses": responses,
            **extra,
        }
    }


PATHS: dict[str, Any] = {
    META_PATH: _get(
        "Server features",
        "This server's memory-reflect features, for clients that adapt to them: the "
        "memory graph's id, whether the server writes each run's input to the inbox "
        "itself (capture), its redelivery settings, how long it keeps a memory's "
        "history, and whether runs extract with a chat model by default. Anonymous.",
        {
            "200": _json(
                "The features",
                _object(
                    graph_id=_STR,
                    capture={"type": "boolean"},
                    redelivery=_object(
                        attempts={"type": "integer"}, grace_seconds={"type": "number"}
                    ),
                    history=_object(days={"type": "number"}),
                    extraction={"type": "string", "enum": ["llm", "offline"]},
                ),
            )
        },
    ),
    "/inspector": _get(
        "Inspector (redirect)",
        "Redirects to the inspector page, ``/inspector/``.",
        {"307": {"description": "To ``inspector/``"}},
    ),
    "/inspector/": _get(
        "Inspector page",
        "A page that shows threads, their inbox, receipts and delivery records, and the "
        "memories, over this API with the key the user types in.",
        {"200": {"description": "The page", "content": {"text/html": {"schema": _STR}}}},
    ),
    "/inspector/api/meta": _get(
        "Inspector: contract names",
        "The graph id and the store labels the page needs. Anonymous.",
        {
            "200": _json(
                "The names",
                _object(
                    graph_id=_STR,
                    inbox_label=_STR,
                    receipts_label=_STR,
                    delivery_label=_STR,
                    delivery_key=_STR,
                ),
            )
        },
    ),
    "/inspector/api/resolve": _get(
        "Inspector: resolve a thread key or namespace",
        "The server's thread UUID for a conversation key (``thread_id``; with the "
        "request's API key mixed in on a keyed server, as the caller's own client does), "
        "or the labels of a namespace written as text (``namespace``). Anonymous: it "
        "reads nothing stored.",
        {
            "200": _json(
                "The thread UUID, or the labels",
                _object(thread_id=_STR, key=_STR, namespace={"type": "array", "items": _STR}),
            ),
            "400": _ERROR,
        },
        parameters=[
            {
                "name": "thread_id",
                "in": "query",
                "required": False,
                "schema": _STR,
                "description": "A conversation key or a UUID",
            },
            {
                "name": "namespace",
                "in": "query",
                "required": False,
                "schema": _STR,
                "description": "A namespace such as memories/alice",
            },
        ],
    ),
    "/inspector/api/whoami": _get(
        "Inspector: who am I",
        "The identity the request's API key maps to and the store prefix the server adds "
        "for it (401 without a valid key on a keyed server).",
        {
            "200": _json(
                "The identity and prefix",
                _object(identity=_STR, prefix={"type": "array", "items": _STR}),
            ),
            "401": _ERROR,
        },
    ),
}
"""Our routes, as the OpenAPI document gives them (the built-in ones are langgraph-api's)."""


def spec() -> dict[str, Any]:
    """The part of the served document our app contributes."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "LangSmith Deployment", "version": "0.1.0"},
        "tags": [{"name": _TAG, "description": "memory-reflect's own routes"}],
        "paths": PATHS,
    }


def install() -> bool:
    """Serve :func:`spec` in place of langgraph-api's regenerated routes; False outside it."""
    try:
        # By name: the package `langgraph_api.api` has a route function called `openapi`.
        served = importlib.import_module("langgraph_api.api.openapi")
    except (ImportError, KeyError):  # not on a LangGraph server (KeyError: its settings unset)
        return False
    served.set_custom_spec(spec())
    served.get_openapi_spec.cache_clear()
    return True
