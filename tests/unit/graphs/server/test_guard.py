"""The request guard mounted with the server's HTTP app, through Starlette's TestClient."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

import graphs.server.access
import graphs.server.guard
from graphs.server.app import app
from graphs.server.guard import (
    GuardRequests,
    _content_length,
    _origin_allowed,
    _read_body,
    _replay,
    _TooLarge,
    body_error,
)

KEY = "k" * 16


@pytest.fixture
def client() -> TestClient:
    # No `with`: the lifespan (sweeper) stays off. Routes the app lacks answer 404 once the
    # guard lets a request through, so 404 below means "passed the guard".
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def keyed(use_keys) -> None:
    use_keys(f"alice:{KEY}", max_body_bytes=4096)


def test_run_and_cron_bodies_are_checked(client):
    bad = {"assistant_id": "memory_manager", "after_seconds": 1e12}
    for path in ("/runs", "/threads/t/runs/wait", "/runs/crons", "/threads/t/runs/crons"):
        r = client.post(path, json=bad)
        assert r.status_code == 422 and "after_seconds" in r.json()["detail"], path
    r = client.patch("/runs/crons/c", json={"input": "text"})
    assert r.status_code == 422 and r.json()["detail"].startswith("input: expected an object")
    assert client.post("/runs", json={"input": {"messages": []}}).status_code == 404
    assert client.post("/threads/search", json=bad).status_code == 404  # not a run


def test_deep_json_is_a_422_not_a_500(client):
    deep = b"[" * 5000 + b"]" * 5000
    for method, path in (("POST", "/runs"), ("PUT", "/store/items"), ("POST", "/threads/search")):
        r = client.request(method, path, content=deep)
        assert r.status_code == 422 and "nested" in r.json()["detail"], path
    assert body_error(b"{not json", "POST", "/runs") is None  # the server's own 422


def test_bodies_are_capped(client, keyed):
    r = client.post("/store/items", content=b"x" * 5000)
    assert r.status_code == 413 and "MEMORY_MAX_BODY_BYTES" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while reading
        for _ in range(5):
            yield b"y" * 1000

    assert client.post("/store/items", content=chunks()).status_code == 413
    assert client.post("/store/items", content=b"{}").status_code == 404


def test_cross_site_requests_are_refused(client):
    evil = client.post("/threads/search", json={}, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403 and "evil.example" in evil.json()["detail"]
    same = client.post("/threads/search", json={}, headers={"origin": "http://testserver"})
    assert same.status_code == 404


def test_keyed_mode_closes_meta_and_dev_routes(client, keyed):
    for path in ("/metrics", "/docs", "/openapi.json"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"x-api-key": KEY}).status_code == 404, path
    for method, path in (("POST", "/internal/truncate"), ("GET", "/deploy"), ("POST", "/deploy")):
        r = client.request(method, path, headers={"x-api-key": KEY})
        assert r.status_code == 403 and "maintenance" in r.json()["detail"], path


def test_open_mode_leaves_meta_routes_alone(client):
    assert client.get("/metrics").status_code == 404
    assert client.post("/internal/truncate").status_code == 404


def test_meta_says_what_clients_can_rely_on(client):
    body = client.get("/reflect/meta").json()
    assert body["graph_id"] == "memory_manager" and body["capture"] is True
    assert body["redelivery"]["attempts"] == 5
    assert body["extraction"] == "offline", "no MEMORY_MODEL: the offline extractor"


class Backend:
    """The server behind the guard: records what reaches it and echoes the body back."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            self.seen.append((scope, receive, send))
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.seen.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def guarded(backend) -> TestClient:
    return TestClient(GuardRequests(backend), base_url="https://testserver")


def test_what_passes_reaches_the_server_untouched(guarded, backend):
    body = json.dumps({"assistant_id": "memory_manager", "after_seconds": 5}).encode()
    r = guarded.post("/threads/t/runs", content=body)
    assert (r.status_code, r.content) == (200, body)
    assert guarded.get("/threads/t").status_code == 200
    assert guarded.patch("/threads/t", json={"input": "text"}).status_code == 200  # not a cron
    assert backend.seen == [("POST", "/threads/t/runs", body), ("GET", "/threads/t", b""),
                            ("PATCH", "/threads/t", b'{"input":"text"}')]  # fmt: skip


async def test_other_connections_pass_through(backend):
    scope, receive, send = {"type": "lifespan"}, object(), object()
    await GuardRequests(backend)(scope, receive, send)
    assert backend.seen == [(scope, receive, send)]


def test_refusals_are_json_with_their_length(guarded):
    r = guarded.post("/runs", json={"after_seconds": -1})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.json() == {"detail": "after_seconds: expected a number from 0 to 2592000, got -1"}
    assert body_error(b'{"input": 3}', "POST", "/runs") == (
        "input: expected an object like {'messages': [...]}, got int"
    )
    deep = guarded.post("/store/items", content=b"[" * 5000 + b"]" * 5000)
    assert deep.json() == {"detail": "body: JSON nested too deeply"}


def test_a_body_of_exactly_the_limit_passes(guarded, keyed):
    assert guarded.post("/store/items", content=b"x" * 4096).status_code == 200
    assert guarded.post("/store/items", content=b"x" * 4097).status_code == 413


def messages(*items: dict[str, Any]):
    queue = list(items)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


@pytest.mark.parametrize(
    ("received", "limit", "body"),
    [
        ([{"type": "http.request", "body": b"ab", "more_body": True},
          {"type": "http.request", "body": b"cd"}], 4, b"abcd"),
        ([{"type": "http.request", "more_body": True}, {"type": "http.request", "body": b"z"}], 1, b"z"),
        ([{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}], 9, None),
    ],
    ids=["chunks", "a chunk without body", "client gone"],
)  # fmt: skip
async def test_the_body_is_read_whole_in_chunks(received, limit, body):
    assert await _read_body(messages(*received), limit) == body


async def test_chunks_count_towards_the_limit_together():
    chunks = [{"type": "http.request", "body": b"abc", "more_body": True}] * 2
    with pytest.raises(_TooLarge):
        await _read_body(messages(*chunks), 5)


async def test_the_body_read_is_replayed_once_then_the_connection_speaks():
    receive = _replay(b"abc", messages({"type": "http.disconnect"}))
    assert await receive() == {"type": "http.request", "body": b"abc", "more_body": False}
    assert await receive() == {"type": "http.disconnect"}


def test_content_length_and_headers_are_read_from_the_scope():
    assert _content_length({"headers": [(b"content-length", b"5000")]}) == 5000
    assert _content_length({"headers": [(b"content-length", b"five")]}) == 0
    assert _content_length({"headers": []}) == 0


def test_same_origin_counts_the_scheme(monkeypatch):
    scope = {"headers": [(b"host", b"h:1")]}
    assert _origin_allowed(scope, "http://h:1")  # no scheme in the scope: http
    assert not _origin_allowed({**scope, "scheme": "https"}, "http://h:1")
    assert _origin_allowed({**scope, "scheme": "https"}, "https://h:1")
    monkeypatch.setattr(graphs.server.guard, "allowed_origins", lambda: ("https://app.example",))
    assert _origin_allowed(scope, "https://app.example")
    assert not _origin_allowed(scope, "https://evil.example")
    monkeypatch.setattr(graphs.server.guard, "allowed_origins", lambda: ("*",))
    assert _origin_allowed(scope, "https://evil.example")


def test_keyed_meta_routes_with_a_trailing_slash(client, keyed):
    r = client.get("/metrics/")
    assert r.status_code == 401 and r.json() == {"detail": "missing or unknown API key"}


async def test_after_the_replayed_body_the_server_hears_the_connection_itself():
    heard: list[Any] = []

    async def server(scope, receive, send) -> None:
        heard.append(await receive())
        heard.append(await receive())  # e.g. a streaming handler waiting for a disconnect

    scope = {"type": "http", "method": "POST", "path": "/threads/search", "headers": []}
    client = messages({"type": "http.request", "body": b"{}"}, {"type": "http.disconnect"})
    await GuardRequests(server)(scope, client, messages())
    assert heard == [
        {"type": "http.request", "body": b"{}", "more_body": False},
        {"type": "http.disconnect"},
    ]


async def test_an_error_raised_while_unwinding_from_an_http_error_gives_that_error():
    """The Postgres runtime's run read: a 404 on the thread, then a failed session close."""
    from starlette.exceptions import HTTPException

    from graphs.server.guard import _keeping_http_errors

    async def reads_at_once(scope, receive, send):
        try:
            raise HTTPException(404, "Thread t not found")
        finally:
            raise RuntimeError("Method 'close()' can't be called here")

    async def plain_bug(scope, receive, send):
        raise RuntimeError("a bug")

    async def http_error(scope, receive, send):
        try:
            raise HTTPException(404, "inner")
        except HTTPException:
            raise HTTPException(409, "outer") from None

    with pytest.raises(HTTPException) as info:
        await _keeping_http_errors(reads_at_once, {}, None, None)
    assert (info.value.status_code, info.value.detail) == (404, "Thread t not found")
    with pytest.raises(RuntimeError, match="a bug"):
        await _keeping_http_errors(plain_bug, {}, None, None)
    with pytest.raises(HTTPException) as info:
        await _keeping_http_errors(http_error, {}, None, None)
    assert info.value.status_code == 409


@pytest.mark.parametrize(
    ("method", "path", "body", "error"),
    [
        ("POST", "/runs/crons", {"assistant_id": "g"}, "schedule: required"),
        ("POST", "/threads/t/runs/crons/", {"schedule": None}, "schedule: required"),
        ("POST", "/runs/crons", {"schedule": "61 * * * *"}, "schedule: expected a cron"),
        ("POST", "/runs/crons", {"schedule": 5}, "schedule: expected a cron"),
        ("PATCH", "/runs/crons/c1", {"schedule": ""}, "schedule: expected a cron"),
        ("PATCH", "/runs/crons/c1", {"enabled": False}, None),
        ("POST", "/runs/crons", {"schedule": "0 9 * * *"}, None),
        ("POST", "/threads/t/runs", {"assistant_id": "g"}, None),  # not a cron: no schedule
        ("POST", "/store/items/search", {}, "namespace_prefix: required"),
        ("POST", "/store/items/search", {"namespace_prefix": [], "query": ""}, "query: must not"),
        ("POST", "/store/items/search/", {"namespace_prefix": ["a"], "query": "x"}, None),
        ("POST", "/store/items/search/", {"namespace_prefix": None}, "namespace_prefix: required"),
        ("POST", "/store/items", {"query": ""}, None),
        ("GET", "/store/items/search", {}, None),
        ("POST", "/runs/crons", {"input": 3, "schedule": "* * * * *"}, "input: expected an object"),
    ],
)
def test_request_errors_name_the_field(method, path, body, error):
    from graphs.server.guard import request_error

    found = request_error(method, path, body)
    assert found == error if error is None else found.startswith(error), found


def test_a_bad_request_is_answered_before_the_server_sees_it(guarded, backend):
    answer = guarded.post("/store/items/search", json={})
    assert answer.status_code == 422 and "namespace_prefix" in answer.json()["detail"]
    assert backend.seen == []


def test_the_http_error_is_found_however_deep_and_cycles_end():
    from starlette.exceptions import HTTPException

    from graphs.server.guard import _http_error_behind

    http = HTTPException(404, "deep")
    middle = ValueError("while handling it")
    middle.__context__ = http  # implicit chaining, as `raise` inside `except` makes it
    top = RuntimeError("closing the session")
    top.__context__ = middle
    assert _http_error_behind(top) is http
    top.__cause__ = middle  # explicit chaining (`raise ... from`) is followed too
    assert _http_error_behind(top) is http
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__context__, b.__context__ = b, a  # a cycle without an HTTP error
    assert _http_error_behind(a) is None
    c = RuntimeError("c")
    top.__cause__, b.__context__ = b, c  # top -> b -> c -> b: a cycle behind the error
    c.__context__ = b
    assert _http_error_behind(top) is None
    assert _http_error_behind(HTTPException(404)) is None, "only what it was raised while handling"


def test_without_croniter_a_schedule_is_checked_for_text_only(monkeypatch):
    import sys

    from graphs.server.guard import _valid_cron

    monkeypatch.setitem(sys.modules, "croniter", None)  # the import then fails
    assert _valid_cron("whatever text") is True
    assert _valid_cron("   ") is False
