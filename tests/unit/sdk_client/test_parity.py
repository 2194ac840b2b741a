"""Sync and async methods must not drift: same parameters, same defaults."""

import inspect

from sdk_client import ReflectionExecutor

PAIRS = [("search", "asearch")]


def test_async_twins_match():
    for sync_name, async_name in PAIRS:
        sync_sig = inspect.signature(getattr(ReflectionExecutor, sync_name))
        async_sig = inspect.signature(getattr(ReflectionExecutor, async_name))
        assert inspect.iscoroutinefunction(getattr(ReflectionExecutor, async_name))
        assert list(sync_sig.parameters.values()) == list(async_sig.parameters.values())
