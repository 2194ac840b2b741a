"""The one home of HTTP client construction: where each setting comes from, what is sent."""

from __future__ import annotations

import asyncio

import httpx

from sdk_client._http import DEFAULT_TIMEOUT, DEFAULT_URL, HttpSettings
from sdk_client._submission import NOT_GIVEN


def test_argument_then_env_then_default(monkeypatch):
    assert HttpSettings.resolve().url == DEFAULT_URL
    monkeypatch.setenv("LANGGRAPH_API_URL", "http://env:1")
    assert HttpSettings.resolve().url == "http://env:1"
    assert HttpSettings.resolve("http://arg:2").url == "http://arg:2"


def test_the_api_key_env_vars_in_langgraph_sdks_order_and_none_sends_none(monkeypatch):
    assert HttpSettings.resolve(api_key=NOT_GIVEN).api_key is None
    monkeypatch.setenv("LANGCHAIN_API_KEY", "chain")
    monkeypatch.setenv("LANGSMITH_API_KEY", "smith")
    assert HttpSettings.resolve(api_key=NOT_GIVEN).headers["x-api-key"] == "smith"
    monkeypatch.setenv("LANGGRAPH_API_KEY", "graph")
    assert HttpSettings.resolve(api_key=NOT_GIVEN).headers["x-api-key"] == "graph"
    assert "x-api-key" not in HttpSettings.resolve(api_key=None).headers


def test_timeouts():
    assert HttpSettings.resolve().timeout == DEFAULT_TIMEOUT
    assert HttpSettings.resolve(timeout=2).timeout == httpx.Timeout(2)


def test_both_clients_send_the_settings():
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"items": []})

    async def search_async(settings: HttpSettings) -> None:
        async with settings.async_client(httpx.MockTransport(answer)) as client:
            await client.store.search_items(("m",))

    settings = HttpSettings("http://s", "k", user_agent="probe")
    with settings.sync_client(httpx.MockTransport(answer)) as client:
        client.store.search_items(("m",))
    asyncio.run(search_async(settings))
    got = [(r.url.host, r.headers["x-api-key"], r.headers["user-agent"]) for r in sent]
    assert got == [("s", "k", "probe")] * 2
