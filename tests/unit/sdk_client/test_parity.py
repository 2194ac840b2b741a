"""Sync and async must not drift: same public methods, parameters, defaults, annotations.

Like langgraph-sdk's tests/test_api_parity.py. Each executor writes its one-line
twins out (``def status`` on one, ``async def status`` on the other), so nothing
makes the pair equal by construction: this test is what keeps it so. Every
difference allowed is listed here with its reason, so a new one fails until
someone writes it down, and ``test_the_checker_reports_a_broken_pair`` shows
the checker failing on a pair built to drift.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Set
from typing import Any, get_args

import httpx

from sdk_client import AsyncReflectionExecutor, ReflectionExecutor, SubmissionFuture, ThreadStatus
from sdk_client.executor import RemoteExecutor

# Methods that do I/O are coroutines on the async executor; submit() only queues.
ASYNC_METHODS = {
    "status",
    "cancel",
    "retry",
    "search",
    "history",
    "undo",
    "consolidate",
    "wait_accepted",
    "flush",
    "shutdown",
}
# Sync-only names, with why.
SYNC_ONLY = {
    "asearch": "kept for langmem's call shape; on the async executor, search() is async",
    "__enter__": "the async executor is an async context manager (__aenter__)",
    "__exit__": "see __enter__",
}
ASYNC_ONLY = {"__aenter__": "see __enter__", "__aexit__": "see __enter__"}
# Annotations that name the sync/async flavour of the same thing.
FLAVOURS = {"httpx.BaseTransport": "httpx.AsyncBaseTransport"}
DUNDERS = {"__init__", "__enter__", "__exit__", "__aenter__", "__aexit__"}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name in DUNDERS
    }


def _annotation(annotation: Any) -> str:
    text = str(annotation)
    for sync_name, async_name in FLAVOURS.items():
        text = text.replace(sync_name, async_name)
    return text


def shape(param: inspect.Parameter) -> tuple[Any, ...]:
    return (param.name, param.kind, param.default, _annotation(param.annotation))


def drift(
    sync_cls: type,
    async_cls: type,
    *,
    coroutines: Set[str] = ASYNC_METHODS,
    sync_only: Mapping[str, str] = SYNC_ONLY,
    async_only: Mapping[str, str] = ASYNC_ONLY,
) -> list[str]:
    """Every way the pair differs beyond what is allowed.

    Same public names; for each, the same parameters (name, kind, default,
    annotation up to :data:`FLAVOURS`) and return annotation (``async def f() -> T``
    and ``def f() -> T`` both say ``T``); ``coroutines`` are coroutine functions
    on the async side, and nothing else is; nothing on the sync side is one.
    """
    problems = []
    sync_names = public_methods(sync_cls) - set(sync_only)
    async_names = public_methods(async_cls) - set(async_only)
    problems += [f"only sync: {n}" for n in sorted(sync_names - async_names)]
    problems += [f"only async: {n}" for n in sorted(async_names - sync_names)]
    for name in sorted(sync_names & async_names):
        sync_fn, async_fn = getattr(sync_cls, name), getattr(async_cls, name)
        sync, async_ = inspect.signature(sync_fn), inspect.signature(async_fn)
        if [shape(p) for p in sync.parameters.values()] != [
            shape(p) for p in async_.parameters.values()
        ]:
            problems.append(f"{name}: parameters differ: {sync} vs {async_}")
        if _annotation(sync.return_annotation) != _annotation(async_.return_annotation):
            problems.append(f"{name}: returns differ")
        if inspect.iscoroutinefunction(async_fn) != (name in coroutines):
            problems.append(
                f"{name}: async side should {'' if name in coroutines else 'not '}be a coroutine"
            )
        if inspect.iscoroutinefunction(sync_fn):
            problems.append(f"{name}: sync side is a coroutine")
    return problems


def test_same_public_methods_parameters_defaults_and_returns():
    assert drift(ReflectionExecutor, AsyncReflectionExecutor) == []
    assert set(SYNC_ONLY) <= public_methods(ReflectionExecutor)
    assert set(ASYNC_ONLY) <= public_methods(AsyncReflectionExecutor)


def test_each_twin_is_written_out_with_its_own_docstring():
    """Each executor defines its own twin (no shared body, no wrapper) and documents it."""
    for cls, names in (
        (ReflectionExecutor, ASYNC_METHODS),
        (AsyncReflectionExecutor, ASYNC_METHODS),
    ):
        for name in names:
            fn = vars(cls).get(name)
            assert inspect.isfunction(fn), f"{cls.__name__}.{name} is not written out"
            assert not hasattr(fn, "__wrapped__"), f"{cls.__name__}.{name} is a wrapper"
            assert fn.__doc__ and fn.__doc__.strip(), f"{cls.__name__}.{name} has no docstring"


def test_the_checker_reports_a_broken_pair():
    """A tiny pair that drifts in every way the checker looks for: it must say so."""

    class Sync:
        def fetch(self, key: str, *, limit: int = 10) -> int:
            return 0

        def close(self) -> None:
            pass

        def only_here(self) -> None:
            pass

    class Async:
        async def fetch(self, key: str, *, limit: int = 20) -> int:  # another default
            return 0

        def close(self) -> None:  # should be a coroutine
            pass

        async def rename(self, name: str) -> str:  # a parameter only here
            return name

    problems = drift(Sync, Async, coroutines={"fetch", "close"}, sync_only={}, async_only={})
    assert problems == [
        "only sync: only_here",
        "only async: rename",
        "close: async side should be a coroutine",
        "fetch: parameters differ: (self, key: 'str', *, limit: 'int' = 10) -> 'int' "
        "vs (self, key: 'str', *, limit: 'int' = 20) -> 'int'",
    ]
    # ... and is quiet once the pair agrees.
    assert drift(Sync, Sync, coroutines=set(), sync_only={}, async_only={}) == []


def test_drift_in_the_executors_is_caught():
    class Drifted(AsyncReflectionExecutor):
        async def flush(self, timeout: float | None = 5.0) -> None:  # another default
            """Drifted."""

        def status(self, thread_id: Any) -> ThreadStatus:  # not a coroutine
            """Drifted."""
            raise NotImplementedError

        async def search(self, query: str | None = None) -> list[dict[str, Any]]:  # fewer
            """Drifted."""
            return []

        async def extra(self) -> None:
            """Only here."""

    problems = drift(ReflectionExecutor, Drifted)
    assert "only async: extra" in problems
    assert any(p.startswith("flush: parameters differ") for p in problems)
    assert any(p.startswith("search: parameters differ") for p in problems)
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
