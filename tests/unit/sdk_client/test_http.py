"""How the client talks HTTP: where each setting comes from, what is sent, and the retry
decision made once (which failures to retry, how long to wait, when to give up)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

from sdk_client._flows import Call, Sleep, retrying, run_async, run_sync
from sdk_client._http import (
    DEFAULT_TIMEOUT,
    DEFAULT_URL,
    HttpSettings,
    RetryPolicy,
    delay_for,
    retry_after_of,
    should_retry,
)
from sdk_client._submission import NOT_GIVEN
from sdk_client.records import NOT_A_USE_HEADER


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
    assert all(NOT_A_USE_HEADER not in r.headers for r in sent)  # an agent's reads are uses


def test_an_operators_client_says_its_reads_are_not_uses():
    looking = HttpSettings("http://s", None, reads_are_uses=False)
    assert looking.headers[NOT_A_USE_HEADER] == "1" and "x-api-key" not in looking.headers
    assert looking.http().headers[NOT_A_USE_HEADER] == "1"


NO_SLEEP = RetryPolicy(max_attempts=4, initial_delay=0, jitter=0)


def _status_error(code: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(code, headers=headers, request=request)
    return httpx.HTTPStatusError(f"{code}", request=request, response=response)


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_retries_transient_statuses(code):
    assert should_retry(_status_error(code))


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
def test_never_retries_a_request_that_is_wrong(code):
    assert not should_retry(_status_error(code))


def test_retries_transport_errors_only():
    assert should_retry(httpx.ConnectError("refused"))
    assert should_retry(httpx.ReadTimeout("slow"))
    assert not should_retry(ValueError("bug"))


def test_retry_after_is_honoured_and_capped():
    assert retry_after_of(_status_error(429, {"retry-after": "2"})) == 2.0
    policy = RetryPolicy(initial_delay=0.1, max_delay=1.0, jitter=0)
    assert delay_for(policy, 1, _status_error(429, {"retry-after": "30"})) == 1.0
    assert delay_for(policy, 3, httpx.ConnectError("x")) == pytest.approx(0.4)


def _client(fn):
    """A stand-in for a langgraph-sdk client whose ``api.do`` is ``fn``."""
    return SimpleNamespace(api=SimpleNamespace(do=fn))


DO = Call("api.do")


def test_retrying_retries_then_succeeds():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise _status_error(503)
        return "ok"

    assert run_sync(retrying(NO_SLEEP, DO), _client(flaky)) == "ok"
    assert len(attempts) == 3


def test_retrying_gives_up_after_max_attempts_and_on_4xx():
    attempts = []

    def down():
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        run_sync(retrying(NO_SLEEP, DO), _client(down))
    assert len(attempts) == 4

    def bad():
        attempts.append(1)
        raise _status_error(422)

    attempts.clear()
    with pytest.raises(httpx.HTTPStatusError):
        run_sync(retrying(NO_SLEEP, DO), _client(bad))
    assert len(attempts) == 1


def test_the_policy_decides_the_sleeps_the_drivers_only_sleep():
    policy = RetryPolicy(max_attempts=3, initial_delay=0.25, jitter=0)
    flow = retrying(policy, DO)
    assert next(flow) == DO
    assert flow.throw(httpx.ConnectError("refused")) == Sleep(0.25)
    assert flow.send(None) == DO
    assert flow.throw(_status_error(503, {"retry-after": "1"})) == Sleep(1.0)
    assert flow.send(None) == DO
    with pytest.raises(httpx.ConnectError):
        flow.throw(httpx.ConnectError("still refused"))
    assert policy.delay(3, httpx.ConnectError("x")) is None
    assert policy.delay(1, _status_error(400)) is None


async def test_the_async_driver_retries_the_same_way():
    attempts = []

    async def flaky():
        attempts.append(1)
        if len(attempts) < 2:
            raise httpx.ReadTimeout("slow")
        return "ok"

    assert await run_async(retrying(NO_SLEEP, DO), _client(flaky)) == "ok"
    assert len(attempts) == 2


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
