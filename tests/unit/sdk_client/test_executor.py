"""The executor without a server: validation before sending, and a server that is down."""

import pytest

import sdk_client
from sdk_client import (
    ExecutorShutdownError,
    InvalidPayloadError,
    NotAcceptedError,
    ReflectionExecutor,
    Stage,
)
from tests.server import free_port
from tests.unit.sdk_client.cases import FAST, MSG, OPTIONS, PAYLOADS, Recorder


@pytest.fixture
def down_executor():
    url = f"http://127.0.0.1:{free_port()}"
    ex = ReflectionExecutor("memory_manager", "memories", url=url, retry=FAST, api_key=None)
    yield ex
    ex.shutdown(wait=True)


def test_every_public_name_is_exported_and_documented():
    for name in sdk_client.__all__:
        obj = getattr(sdk_client, name)
        if callable(obj):
            assert obj.__doc__, name


def test_reflector_must_be_a_graph_id():
    with pytest.raises(TypeError, match="reflector"):
        ReflectionExecutor(object(), "memories")  # type: ignore[arg-type]


def test_bad_payload_raises_in_the_callers_thread(down_executor):
    with pytest.raises(InvalidPayloadError, match="payload.messages"):
        down_executor.submit({"messages": []}, thread_id="t")
    with pytest.raises(InvalidPayloadError, match="thread_id"):
        down_executor.submit(MSG)
    with pytest.raises(InvalidPayloadError, match="after_seconds"):
        down_executor.submit(MSG, thread_id="t", after_seconds=-2)


def test_server_down_is_a_visible_not_accepted_error(down_executor):
    fut = down_executor.submit(MSG, thread_id="t")
    with pytest.raises(NotAcceptedError) as info:
        fut.wait_accepted(timeout=30)
    assert down_executor.url in str(info.value)
    assert "langgraph dev" in str(info.value)
    assert info.value.submission_id == fut.submission_id
    assert fut.stage is Stage.FAILED
    assert not fut.accepted
    with pytest.raises(NotAcceptedError):
        fut.result(timeout=1)


def test_no_submit_after_shutdown(down_executor):
    down_executor.shutdown()
    with pytest.raises(ExecutorShutdownError):
        down_executor.submit(MSG, thread_id="t")


def test_context_manager_shuts_down():
    url = f"http://127.0.0.1:{free_port()}"
    with ReflectionExecutor("memory_manager", "memories", url=url, retry=FAST) as ex:
        pass
    with pytest.raises(ExecutorShutdownError):
        ex.submit(MSG, thread_id="t")


def test_a_threads_submissions_reach_the_server_in_order_and_coalesce():
    import threading

    import httpx

    server, release = Recorder(), threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        release.wait(10)  # hold the first request so later submissions queue up
        return server.answer(request)

    ex = ReflectionExecutor(
        "memory_manager", "memories", transport=httpx.MockTransport(handler), **OPTIONS
    )
    futures = [ex.submit(p, thread_id="t", after_seconds=60) for p in PAYLOADS]
    release.set()
    ex.wait_accepted(timeout=10)
    ex.shutdown(wait=True, cancel_futures=True)
    server.check_in_order_and_coalesced(futures)


def test_search_and_asearch_are_one_method_driven_two_ways():
    """search() runs on the sync client; asearch() (its async twin) on the async one."""
    import asyncio

    import httpx
    from langgraph_sdk.client import LangGraphClient

    seen: list[str] = []

    def server(flavour: str) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(f"{flavour} {request.method} {request.url.path}")
            item = {"key": flavour, "namespace": ["memories"], "value": {}}
            return httpx.Response(200, json={"items": [item]})

        return httpx.MockTransport(answer)

    aclient = LangGraphClient(httpx.AsyncClient(base_url="http://s", transport=server("async")))
    with ReflectionExecutor(
        "memory_manager", "memories", url="http://s", transport=server("sync"), client=aclient
    ) as ex:
        found = asyncio.run(ex.asearch("tea"))
        assert [(m["key"], m["namespace"]) for m in found] == [("async", ("memories",))]
        assert [m["key"] for m in ex.search("tea")] == ["sync"]  # the twin left no trace
    assert seen == ["async POST /store/items/search", "sync POST /store/items/search"]
