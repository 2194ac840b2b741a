"""The request guard mounted with the server's HTTP app, through Starlette's TestClient."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

import graphs.access
from graphs.access import Access, parse_api_keys
from graphs.server_app import app, body_error

KEY = "k" * 16


@pytest.fixture
def client() -> TestClient:
    # No `with`: the lifespan (sweeper) stays off. Routes the app lacks answer 404 once the
    # guard lets a request through, so 404 below means "passed the guard".
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = parse_api_keys(f"alice:{KEY}")
    monkeypatch.setattr(graphs.access, "ACCESS", Access(keys=keys, max_body_bytes=4096))


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
    assert body_error(b"{not json", check_runs=True) is None  # the server's own 422


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
