"""Shared helpers of the reliability tests: distinct facts per turn, and counting memories."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from langgraph_sdk.client import SyncLangGraphClient

from sdk_client import ReflectionExecutor, SubmissionFuture
from sdk_client.records import RECORD_LABELS
from tests.server import isolated_env, message


def server_env(**extra: str) -> dict[str, str | None]:
    """A reliability server's environment: isolated, with ``extra`` on top.

    Every turn here is one countable fact ("User likes topic-<user>-<n>."), and such
    facts are near-identical to the embedder: the offline extractor's de-duplication
    would rightly merge them. This suite measures delivery, not de-duplication
    (``bench/quality.py`` does), so it keeps only identical wording out.
    """
    return isolated_env(MEMORY_DEDUP_THRESHOLD="1") | extra


def turn(user: str, n: int) -> str:
    """A user turn the offline extractor stores as exactly one memory, ``fact(user, n)``."""
    return f"I like topic-{user}-{n}."


def fact(user: str, n: int) -> str:
    """The memory ``turn(user, n)`` becomes."""
    return f"User likes topic-{user}-{n}."


def _items(sdk: SyncLangGraphClient, prefix: list[str]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        items = sdk.store.search_items(prefix, limit=100, offset=offset)["items"]
        yield from items
        if len(items) < 100:
            return
        offset += 100


def memories(sdk: SyncLangGraphClient, user: str) -> list[str]:
    """Every memory content stored for ``user`` (one entry per stored item)."""
    return [i["value"]["content"]["content"] for i in _items(sdk, ["memories", user])]


def memories_mentioning(sdk: SyncLangGraphClient, marker: str) -> list[str]:
    """Every memory, in any namespace of the whole store, whose value mentions ``marker``.

    The records are left out (:data:`RECORD_LABELS`): inboxes, receipts and delivery
    records hold submissions, not memories; history repeats a memory's versions. One entry per stored item, so a duplicate shows.
    """
    return [
        json.dumps(i["value"])
        for i in _items(sdk, [])
        if i["namespace"][:1] and i["namespace"][0] not in RECORD_LABELS
        and marker in json.dumps(i["value"])
    ]  # fmt: skip


def tally(stored: Iterable[str], expected: Iterable[str]) -> tuple[int, int]:
    """(expected facts found, duplicate items) in what is stored."""
    counts = Counter(stored)
    found = sum(1 for e in set(expected) if counts[e])
    return found, sum(c - 1 for c in counts.values() if c > 1)


def submit(ex: ReflectionExecutor, user: str, text: str, after: float = 0.0) -> SubmissionFuture:
    """Submit one turn of ``user`` on their thread ``chat-<user>``."""
    return ex.submit(
        message(text),
        {"configurable": {"user_id": user}},
        after_seconds=after,
        thread_id=f"chat-{user}",
    )
