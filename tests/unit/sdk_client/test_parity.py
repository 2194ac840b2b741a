"""Sync and async must not drift: same public methods, parameters, defaults, annotations.

Like langgraph-sdk's tests/test_api_parity.py. Every difference allowed is
listed here with its reason, so a new one fails until someone writes it down.
"""

from __future__ import annotations

import inspect
from typing import Any, get_args

import httpx

from sdk_client import AsyncReflectionExecutor, ReflectionExecutor, SubmissionFuture, ThreadStatus
from sdk_client._remote import RemoteExecutor

# Methods that do I/O are coroutines on the async executor; submit() only queues.
ASYNC_METHODS = {"status", "cancel", "retry", "search", "wait_accepted", "flush", "shutdown"}
# Sync-only names, with why.
SYNC_ONLY = {
    "asearch": "kept for langmem's call shape; on the async executor, search() is async",
    "__enter__": "the async executor is an async context manager (__aenter__)",
    "__exit__": "see __enter__",
}
ASYNC_ONLY = {"__aenter__": "see __enter__", "__aexit__": "see __enter__"}
# Annotations that name the sync/async flavour of the same thing.
FLAVOURS = {"httpx.BaseTransport": "httpx.AsyncBaseTransport"}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name in {"__enter__", "__exit__", "__aenter__", "__aexit__"}
    }


def shape(param: inspect.Parameter) -> tuple:
    annotation = str(param.annotation)
    for sync_name, async_name in FLAVOURS.items():
        annotation = annotation.replace(sync_name, async_name)
    return (param.name, param.kind, param.default, annotation)


def drift(sync_cls: type, async_cls: type) -> list[str]:
    """Every way the pair differs beyond what is listed above."""
    problems = []
    sync_names = public_methods(sync_cls) - set(SYNC_ONLY)
    async_names = public_methods(async_cls) - set(ASYNC_ONLY)
    problems += [f"only sync: {n}" for n in sorted(sync_names - async_names)]
    problems += [f"only async: {n}" for n in sorted(async_names - sync_names)]
    for name in sorted((sync_names & async_names) - {"__init__"}):
        sync = inspect.signature(getattr(sync_cls, name))
        async_ = inspect.signature(getattr(async_cls, name))
        if [shape(p) for p in sync.parameters.values()] != [
            shape(p) for p in async_.parameters.values()
        ]:
            problems.append(f"{name}: parameters differ: {sync} vs {async_}")
        if sync.return_annotation != async_.return_annotation:
            problems.append(f"{name}: returns differ")
        if inspect.iscoroutinefunction(getattr(async_cls, name)) != (name in ASYNC_METHODS):
            problems.append(
                f"{name}: async side should {'' if name in ASYNC_METHODS else 'not '}be a coroutine"
            )
        if inspect.iscoroutinefunction(getattr(sync_cls, name)):
            problems.append(f"{name}: sync side is a coroutine")
    return problems


def test_same_public_methods_parameters_defaults_and_returns():
    assert drift(ReflectionExecutor, AsyncReflectionExecutor) == []
    assert set(SYNC_ONLY) <= public_methods(ReflectionExecutor)
    assert set(ASYNC_ONLY) <= public_methods(AsyncReflectionExecutor)


def test_drift_is_caught():
    class Drifted(AsyncReflectionExecutor):
        async def flush(self, timeout: float | None = 5.0) -> None:  # another default
            """Drifted."""

        def status(self, thread_id: Any) -> ThreadStatus:  # not a coroutine
            """Drifted."""
            raise NotImplementedError

        async def extra(self) -> None:
            """Only here."""

    problems = drift(ReflectionExecutor, Drifted)
    assert "only async: extra" in problems
    assert any(p.startswith("flush: parameters differ") for p in problems)
    assert "status: async side should be a coroutine" in problems


def test_one_constructor_written_once_for_both():
    """Neither executor spells out its own: both take RemoteExecutor.__init__ as it is."""
    for cls in (ReflectionExecutor, AsyncReflectionExecutor):
        assert "__init__" not in vars(cls), cls.__name__
        assert cls.__init__ is RemoteExecutor.__init__
    # Only the transport's flavour differs, and the type parameter says which.
    assert get_args(ReflectionExecutor.__orig_bases__[-1]) == (httpx.BaseTransport,)
    assert get_args(AsyncReflectionExecutor.__orig_bases__[-1]) == (httpx.AsyncBaseTransport,)


def test_both_executors_are_built_from_the_same_arguments():
    kwargs = dict(
        url="http://127.0.0.1:9", api_key=None, poll_interval=0.25, sender_threads=3,
        exit_timeout=1.5,
    )  # fmt: skip
    sync = ReflectionExecutor("memory_manager", ("m", "{user_id}"), **kwargs)
    async_ = AsyncReflectionExecutor("memory_manager", ("m", "{user_id}"), **kwargs)
    try:
        for ex in (sync, async_):
            assert (ex.reflector, ex.namespace, ex.url) == (
                "memory_manager", ("m", "{user_id}"), "http://127.0.0.1:9",
            )  # fmt: skip
            assert (ex._poll_interval, ex._exit_timeout) == (0.25, 1.5)
        assert len(sync._queues) == 3 and async_._sender_count == 3
    finally:
        sync.shutdown()


def test_asearch_twin_matches_search():
    sync_sig = inspect.signature(ReflectionExecutor.search)
    async_sig = inspect.signature(ReflectionExecutor.asearch)
    assert inspect.iscoroutinefunction(ReflectionExecutor.asearch)
    assert list(sync_sig.parameters.values()) == list(async_sig.parameters.values())


def test_future_waits_have_async_twins():
    sync = inspect.signature(SubmissionFuture.wait_accepted)
    async_ = inspect.signature(SubmissionFuture.wait_accepted_async)
    assert inspect.iscoroutinefunction(SubmissionFuture.wait_accepted_async)
    assert list(sync.parameters.values()) == list(async_.parameters.values())
    assert hasattr(SubmissionFuture, "__await__")
