"""The use recorder: what a store read returned becomes use records, at most once an interval."""

from __future__ import annotations

import json

import httpx
import pytest
from langgraph.store.memory import InMemoryStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graphs.server import access
from graphs.server.uses import RecordUses, UseRecorder, UseSettings, returned_items
from sdk_client.records import NOT_A_USE_HEADER, use_namespace

ALICE_KEY = "key-alice-" + "a" * 16


def _item(namespace: list[str], key: str) -> dict:
    return {"namespace": namespace, "key": key, "value": {"kind": "Memory"}}


def test_the_items_of_a_search_or_a_get_are_read_from_the_answer():
    search = json.dumps({"items": [_item(["m", "a"], "k1"), {"junk": 1}]}).encode()
    assert returned_items(search, "POST") == [(("m", "a"), "k1")]
    assert returned_items(json.dumps(_item(["m"], "k2")).encode(), "GET") == [(("m",), "k2")]
    assert returned_items(b"not json", "POST") == [] and returned_items(b"null", "GET") == []


def test_settings_are_on_only_with_an_unused_policy_in_the_environment():
    assert not UseSettings.from_env({}).enabled
    on = UseSettings.from_env({"MEMORY_FORGET_UNUSED_DAYS": "30", "MEMORY_USE_RECORD_SECONDS": "5"})
    assert on.enabled and on.record_seconds == 5
    with pytest.raises(ValueError, match="MEMORY_USE_RECORD_SECONDS"):
        UseSettings.from_env({"MEMORY_USE_RECORD_SECONDS": "often"})
    with pytest.raises(ValueError, match="MEMORY_USE_RECORD_SECONDS='1h': expected a number"):
        UseSettings.from_env({"MEMORY_FORGET_UNUSED_DAYS": "30", "MEMORY_USE_RECORD_SECONDS": "1h"})


async def test_a_use_is_written_once_an_interval_and_records_are_not_uses():
    store = InMemoryStore()

    async def get_store() -> InMemoryStore:
        return store

    recorder = UseRecorder(UseSettings(enabled=True, record_seconds=60), get_store)
    read = [(("memories", "al"), "k1"), (("reflection_history", "memories", "al"), "k1@1")]
    assert await recorder.record(read, now=100.0) == 1
    assert await recorder.record(read, now=150.0) == 0  # within the interval
    assert await recorder.record(read, now=161.0) == 1
    [record] = store.search(use_namespace(("memories", "al")))
    assert record.key == "k1" and record.value == {"used_at": 161.0}
    # Under a user's prefix, whether the answer showed it or not.
    assert await recorder.record([(("alice", "memories"), "k2")], ("alice",), now=1.0) == 1
    assert await recorder.record([(("memories",), "k3")], ("alice",), now=1.0) == 1
    keys = {i.key for i in store.search(use_namespace(("memories",), ("alice",)))}
    assert keys == {"k2", "k3"}


async def _answer(request: Request) -> JSONResponse:
    return JSONResponse({"items": [_item(["memories", "bo"], "k")]})


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def _client(store: InMemoryStore) -> httpx.AsyncClient:
    async def get_store() -> InMemoryStore:
        return store

    recorder = UseRecorder(UseSettings(enabled=True, record_seconds=0), get_store)
    app = Starlette(routes=[Route("/store/items/search", _answer, methods=["POST"]),
                            Route("/threads/search", _answer, methods=["POST"])])  # fmt: skip
    wrapped = RecordUses(app, recorder)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t")


async def test_the_middleware_records_what_a_store_search_returned_and_nothing_else(store):
    async with _client(store) as client:
        assert (await client.post("/threads/search", json={})).status_code == 200
        assert store.search(()) == []  # not a store read
        await client.post("/store/items/search", json={}, headers={NOT_A_USE_HEADER: "1"})
        assert store.search(()) == []  # erasure's read is no use
        await client.post("/store/items/search", json={})
    [record] = store.search(use_namespace(("memories", "bo")))
    assert record.key == "k"


async def test_on_a_keyed_server_a_use_goes_under_the_readers_prefix(store, monkeypatch):
    monkeypatch.setattr(access, "ACCESS", access.Access(keys={ALICE_KEY: "alice"}))
    async with _client(store) as client:
        await client.post("/store/items/search", json={})  # no key: nobody's use
        assert store.search(()) == []
        await client.post("/store/items/search", json={}, headers={"x-api-key": ALICE_KEY})
    [record] = store.search(())
    assert tuple(record.namespace) == use_namespace(("memories", "bo"), ("alice",))
