"""The text of each memory a run changed, before and after, for people to read.

``changes`` names memories by path (``memories/alice/c5fdf0…``), which says
nothing to a reader. ``commit`` keeps the value each staged key had when it
applied the writes and puts :func:`change_text` in the thread state,
``{path: {"before", "after"}}`` for each changed path, which the inspector shows
next to the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphs.memory_manager.runs import memory_path
from graphs.memory_manager.state import Changes, ChangeText, StagedOp
from sdk_client.contract import memory_text as contract_memory_text

__all__ = ["MAX_CHARS", "change_text", "memory_text"]

MAX_CHARS = 300
"""Longer texts are cut, so a big typed memory does not bloat every checkpoint."""


def memory_text(value: Mapping[str, Any] | None) -> str | None:
    """A memory's readable text (:func:`sdk_client.contract.memory_text`), cut to MAX_CHARS."""
    if value is None:
        return None
    text = contract_memory_text(value)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def change_text(
    changes: Changes, ops: Sequence[StagedOp], before: Mapping[str, Any]
) -> dict[str, ChangeText]:
    """Before and after text of every changed path (the last staged write of a key wins)."""
    after = {memory_path(op["namespace"], op["key"]): op["value"] for op in ops}
    paths = [*changes["created"], *changes["updated"], *changes["deleted"]]
    return {
        p: {"before": memory_text(before.get(p)), "after": memory_text(after.get(p))} for p in paths
    }
