"""The /openapi.json a keyed server serves: valid, complete, closed to anonymous callers."""

from __future__ import annotations

import re

import httpx
import pytest
from openapi_spec_validator import validate

from graphs.server.openapi import PATHS
from tests.server import ALICE_KEY

pytestmark = pytest.mark.integration


def test_the_served_document_is_valid_and_lists_no_internal_route(keyed_server):
    url = f"{keyed_server.url}/openapi.json"
    assert httpx.get(url).status_code == 401
    spec = httpx.get(url, headers={"x-api-key": ALICE_KEY}).json()
    validate(spec)  # also: every templated path parameter is declared
    paths = spec["paths"]
    internal = [p for p in paths if re.match(r"^/(internal|deploy|ui)(/|$)", p)]
    assert internal == []
    assert set(PATHS) <= set(paths)
    for path, ops in paths.items():
        for name in re.findall(r"{(\w+)}", path):
            for method, op in ops.items():
                if method == "parameters":
                    continue
                declared = [*ops.get("parameters", []), *op.get("parameters", [])]
                assert any(p.get("name") == name and p.get("in") == "path" for p in declared), (
                    f"{method.upper()} {path} does not declare {name}"
                )
