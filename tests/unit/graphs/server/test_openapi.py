"""What /openapi.json says about our own routes (graphs.server.openapi); the served document:
tests/integration/test_openapi.py."""

from __future__ import annotations

import json
from pathlib import Path

import langgraph_api
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from graphs.server import openapi
from graphs.server.app import app


def _routes(routes, prefix: str = "") -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route):
            found |= {(m, prefix + route.path) for m in route.methods or () if m != "HEAD"}
        elif isinstance(route, Mount) and route.routes:
            found |= _routes(route.routes, prefix + route.path)
    return found


def test_every_route_of_the_app_is_described():
    """A route added without a description here fails."""
    served = _routes(app.routes)
    described = {(m.upper(), p) for p, ops in openapi.PATHS.items() for m in ops}
    assert served == described
    for path, ops in openapi.PATHS.items():
        for method, op in ops.items():
            assert op["summary"] and len(op["description"]) > 20, (method, path)
            assert op["responses"], (method, path)


def test_merged_over_the_servers_own_document_it_is_valid():
    stock = json.loads((Path(langgraph_api.__file__).parent.parent / "openapi.json").read_text())
    merged = {**stock, "paths": {**stock["paths"], **openapi.spec()["paths"]}}
    validate(merged)


def test_outside_a_server_nothing_is_installed():
    assert openapi.install() is False
