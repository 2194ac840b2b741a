"""The text of each memory a run changed, before and after, for people to read.

``changes`` names memories by path (``memories/alice/c5fdf0…``), which says
nothing to a reader. ``commit`` is wrapped in :func:`records_change_text`: it
reads the staged keys' current values in one batch before the writes, and
afterwards puts ``change_text`` in the thread state, ``{path: {"before",
"after"}}`` for each changed path, which the inspector shows next to the key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, GetOp, Item

from graphs.memory_manager.context import Context
from graphs.memory_manager.runs import require_store
from graphs.memory_manager.state import Changes, ChangeText, StagedOp

__all__ = ["MAX_CHARS", "change_text", "memory_text", "records_change_text"]

MAX_CHARS = 300
"""Longer texts are cut, so a big typed memory does not bloat every checkpoint."""


def memory_text(value: Mapping[str, Any] | None) -> str | None:
    """A memory's readable text: langmem's ``content.content``, else its content as JSON."""
    if value is None:
        return None
    content = value.get("content", value)
    if isinstance(content, Mapping) and set(content) == {"content"}:
        content = content["content"]
    text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _path(namespace: Sequence[str], key: str) -> str:
    return "/".join([*namespace, key])


async def values_before(store: BaseStore, ops: Sequence[StagedOp]) -> dict[str, Any]:
    """The current value of each staged key, by path (one batched read)."""
    if not ops:
        return {}
    found = await store.abatch([GetOp(tuple(op["namespace"]), op["key"]) for op in ops])
    return {
        _path(op["namespace"], op["key"]): item.value if isinstance(item, Item) else None
        for op, item in zip(ops, found, strict=True)
    }


def change_text(
    changes: Changes, ops: Sequence[StagedOp], before: Mapping[str, Any]
) -> dict[str, ChangeText]:
    """Before and after text of every changed path (the last staged write of a key wins)."""
    after = {_path(op["namespace"], op["key"]): op["value"] for op in ops}
    paths = [*changes["created"], *changes["updated"], *changes["deleted"]]
    return {
        p: {"before": memory_text(before.get(p)), "after": memory_text(after.get(p))} for p in paths
    }


Step = TypeVar("Step", bound=Callable[..., Awaitable[dict[str, Any]]])


def records_change_text(step: Step) -> Step:
    """Wrap ``commit(state, runtime)`` so its update also carries ``change_text``."""

    @functools.wraps(step)
    async def wrapper(state: Any, runtime: Runtime[Context]) -> dict[str, Any]:
        ops = state.get("ops") or []
        before = await values_before(require_store(runtime), ops)
        update = await step(state, runtime)
        return {**update, "change_text": change_text(update["changes"], ops, before)}

    return wrapper  # type: ignore[return-value]
