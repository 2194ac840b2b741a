"""The inspector's Python routes, through Starlette's TestClient (no server needed)."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

import graphs.server.access
import graphs.server.inspector
from graphs.server.access import Access, parse_api_keys
from graphs.server.app import app as server_app
from graphs.server.inspector.app import parse_namespace
from sdk_client.contract import validate_thread_id
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import INBOX_LABEL, RECEIPTS_LABEL

ALICE_KEY = "alice-key-0123456789abcdef"


@pytest.fixture
def client() -> TestClient:
    # The server's own app, as langgraph.json mounts it; no `with`, so the sweeper stays off.
    return TestClient(server_app, follow_redirects=False)


def test_exports():
    assert sorted(graphs.server.inspector.__all__) == ["ROUTES", "STATIC_DIR", "app"]
    assert {p.name for p in graphs.server.inspector.STATIC_DIR.iterdir()} >= {
        "index.html", "inspector.js", "inspector.css",
    }  # fmt: skip


def test_page_and_its_files_are_served(client):
    page = client.get("/inspector/")
    assert page.status_code == 200
    assert "memory-reflect inspector" in page.text
    assert page.headers["cache-control"] == "no-cache"
    for name, kind in [("inspector.js", "javascript"), ("inspector.css", "text/css")]:
        resp = client.get(f"/inspector/static/{name}")
        assert resp.status_code == 200 and kind in resp.headers["content-type"]
    assert client.get("/inspector/static/nope.js").status_code == 404


def test_bare_path_redirects_to_the_page(client):
    resp = client.get("/inspector")
    assert resp.status_code == 307
    # Relative, so a forged Host header cannot send the browser elsewhere.
    assert resp.headers["location"] == "inspector/"


def test_meta_names_come_from_the_contract(client):
    assert client.get("/inspector/api/meta").json() == {
        "graph_id": "memory_manager",
        "inbox_label": INBOX_LABEL,
        "receipts_label": RECEIPTS_LABEL,
        "delivery_label": "reflection_delivery",
        "delivery_key": "state",
        "history_label": "reflection_history",
        "record_labels": [
            "reflection_activity",
            "reflection_delivery",
            "reflection_history",
            "reflection_inbox",
            "reflection_receipts",
            "reflection_use",
        ],
    }


@pytest.mark.parametrize("key", ["alice-chat-1", str(uuid.uuid4()), "  spaced key "])
def test_resolve_thread_matches_the_executor(client, key):
    body = client.get("/inspector/api/resolve", params={"thread_id": key}).json()
    assert body == {"thread_id": validate_thread_id(key), "key": key}
    keyed = client.get(
        "/inspector/api/resolve", params={"thread_id": key}, headers={"x-api-key": ALICE_KEY}
    ).json()
    assert keyed["thread_id"] == validate_thread_id(key, api_key=ALICE_KEY)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"thread_id": " "}, "thread_id: must not be empty"),
        ({"namespace": "memories/a.b"}, "namespace[1]: label 'a.b' must not contain '.'"),
        ({"namespace": ""}, "namespace: must have at least one label"),
        ({"namespace": "memories//x"}, "namespace[1]: labels must not be empty"),
        ({"namespace": "[1, 2"}, "namespace: not a JSON list of labels"),
        ({"namespace": "[1]"}, "namespace[0]: expected a string, got int"),
        ({}, "pass ?thread_id=... or ?namespace=..."),
    ],
)
def test_resolve_says_what_is_wrong(client, params, message):
    resp = client.get("/inspector/api/resolve", params=params)
    assert resp.status_code == 400
    assert resp.json()["error"].startswith(message)


def test_resolve_namespace(client):
    get = client.get
    assert get("/inspector/api/resolve", params={"namespace": "memories/alice"}).json() == {
        "namespace": ["memories", "alice"]
    }
    assert get("/inspector/api/resolve", params={"namespace": '["a/b", "c"]'}).json() == {
        "namespace": ["a/b", "c"]
    }


def test_parse_namespace_raises_the_contract_error():
    with pytest.raises(InvalidPayloadError, match=r"namespace\[0\]"):
        parse_namespace("a.b")


def test_whoami_open_mode(client, monkeypatch):
    monkeypatch.setattr(graphs.server.access, "ACCESS", Access())
    assert client.get("/inspector/api/whoami").json() == {"identity": "local", "prefix": []}


def test_whoami_with_keys(client, monkeypatch):
    monkeypatch.setattr(
        graphs.server.access, "ACCESS", Access(keys=parse_api_keys(f"alice:{ALICE_KEY}"))
    )
    missing = client.get("/inspector/api/whoami")
    assert missing.status_code == 401 and "missing API key" in missing.json()["error"]
    wrong = client.get("/inspector/api/whoami", headers={"x-api-key": "x" * 20})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unknown API key"
    ok = client.get("/inspector/api/whoami", headers={"x-api-key": ALICE_KEY})
    assert ok.json() == {"identity": "alice", "prefix": ["alice"]}


def test_page_ships_no_secret_or_external_url():
    # Plain files, nothing fetched from elsewhere at run time.
    for path in graphs.server.inspector.STATIC_DIR.iterdir():
        text = path.read_text()
        assert "http://" not in text and "https://" not in text, path.name
