"""Shared helpers of the reliability tests: distinct facts per turn, and counting memories."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from langgraph_sdk.client import SyncLangGraphClient

from sdk_client import ReflectionExecutor, RetryPolicy, SubmissionFuture
from tests.server import ISOLATED_ENV


def server_env(**extra: str) -> dict[str, str | None]:
    """A reliability server's environment: isolated, with ``extra`` on top.

    Every turn here is one countable fact ("User likes topic-<user>-<n>."), and such
    facts are near-identical to the embedder: the offline extractor's de-duplication
    would rightly merge them. This suite measures delivery, not de-duplication
    (``bench/quality.py`` does), so it keeps only identical wording out.
    """
    return dict.fromkeys(ISOLATED_ENV) | {"MEMORY_DEDUP_THRESHOLD": "1"} | extra


def turn(user: str, n: int) -> str:
    """A user turn the offline extractor stores as exactly one memory, ``fact(user, n)``."""
    return f"I like topic-{user}-{n}."


def fact(user: str, n: int) -> str:
    """The memory ``turn(user, n)`` becomes."""
    return f"User likes topic-{user}-{n}."


def message(text: str) -> dict[str, Any]:
    """A single-turn payload."""
    return {"messages": [{"role": "user", "content": text}]}


def memories(sdk: SyncLangGraphClient, user: str) -> list[str]:
    """Every memory content stored for ``user`` (one entry per stored item)."""
    out: list[str] = []
    offset = 0
    while True:
        items = sdk.store.search_items(["memories", user], limit=100, offset=offset)["items"]
        out += [i["value"]["content"]["content"] for i in items]
        if len(items) < 100:
            return out
        offset += 100


def tally(stored: Iterable[str], expected: Iterable[str]) -> tuple[int, int]:
    """(expected facts found, duplicate items) in what is stored."""
    counts = Counter(stored)
    found = sum(1 for e in set(expected) if counts[e])
    return found, sum(c - 1 for c in counts.values() if c > 1)


def executor(url: str, **kwargs: Any) -> ReflectionExecutor:
    """An executor writing to ``("memories", <user_id>)``, quick to poll and retry."""
    kwargs.setdefault("poll_interval", 0.2)
    kwargs.setdefault("retry", RetryPolicy(initial_delay=0.05))
    return ReflectionExecutor("memory_manager", ("memories", "{user_id}"), url=url, **kwargs)


def submit(ex: ReflectionExecutor, user: str, text: str, after: float = 0.0) -> SubmissionFuture:
    """Submit one turn of ``user`` on their thread ``chat-<user>``."""
    return ex.submit(
        message(text),
        {"configurable": {"user_id": user}},
        after_seconds=after,
        thread_id=f"chat-{user}",
    )
