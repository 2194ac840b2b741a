"""Consolidation on the LLM path: a chat-model call per namespace says what to retire.

With a ``model`` configured, consolidation shows the model every memory of the
namespace (key, last update, text) and offers it one tool, ``RetireMemories``: the keys
to retire, each with a reason. A namespace whose listing is longer than
:data:`WINDOW_CHARS` is shown in windows, a call each, so no call outgrows the model's
context: memories about one attribute (the offline rules' slot), then ones worded
alike, are kept in one window, but two far apart in that order are not compared. Each
answer is checked before anything is staged:

- keys it names that the namespace does not hold are ignored (a model may invent or
  mistype one; retiring nothing in their place is safe);
- an answer that would retire every memory is refused, changing nothing (an empty or
  confused reply must not wipe a user's memory, mastra#22074);
- a reply with no call of the tool, or arguments of the wrong shape, fails the run:
  nothing was staged, so nothing changes, and the error says why (any window's).

The caller (:func:`~.consolidate.consolidate`) then keeps the bound and the share
limit, exactly as offline. The call is made inside ``extract``, so its tokens are in
the run's ``usage`` like an extraction's (:mod:`.usage`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from graphs.memory_manager.context import Context
from graphs.memory_manager.extractors import chat_model
from graphs.memory_manager.offline.slots import memory_slot
from graphs.memory_manager.prompts import CONSOLIDATION_INSTRUCTIONS

__all__ = [
    "TOOL",
    "WINDOW_CHARS",
    "ModelAnswerError",
    "RetireMemories",
    "listing",
    "model_retirements",
    "read",
    "windows",
]

WINDOW_CHARS = 40_000
"""The most listing one call shows (about 10,000 tokens, well inside any chat model's
context with the instructions and the answer); a longer namespace takes several calls."""

ListedMemory = tuple[str, str, float]
"""A memory as the model is shown it: key, text, last update (epoch seconds)."""


class ModelAnswerError(RuntimeError):
    """The model's answer could not be used; nothing was changed."""


class Retirement(BaseModel):
    """One memory to retire."""

    key: str = Field(description="The memory's key, exactly as listed.")
    reason: str = Field(
        default="",
        description="Why, naming the key of the memory that stays in its place (the one it "
        "duplicates, or the newer one that contradicts it).",
    )


class RetireMemories(BaseModel):
    """Retire memories that duplicate another or that a newer memory contradicts.

    Call it once, with an empty list when nothing should be retired.
    """

    retire: list[Retirement] = Field(description="The memories to retire; [] for none.")


TOOL = RetireMemories.__name__


def listing(memories: Sequence[ListedMemory]) -> str:
    """The memories as the model reads them: one JSON object a line, oldest first."""
    lines = []
    for key, text, updated_at in sorted(memories, key=lambda m: (m[2], m[0])):
        when = datetime.fromtimestamp(updated_at, UTC).isoformat(timespec="seconds")
        lines.append(json.dumps({"key": key, "updated_at": when, "text": text}))
    return "\n".join(lines)


def read(reply: AIMessage, keys: Sequence[str], model: str) -> dict[str, str]:
    """The retirements a reply asks for, checked: unknown keys dropped, never every key.

    Raises:
        ModelAnswerError: no call of the tool, arguments of the wrong shape, or every
            memory named.
    """
    calls = [c for c in reply.tool_calls if c["name"] == TOOL]
    if not calls:
        raise ModelAnswerError(f"the model ({model}) did not call {TOOL}; nothing was changed")
    known = set(keys)
    retired: dict[str, str] = {}
    for call in calls:
        try:
            answer = RetireMemories.model_validate(call["args"])
        except ValidationError as err:
            raise ModelAnswerError(
                f"the model's ({model}) {TOOL} arguments are malformed; nothing was changed: "
                f"{err.errors()[0]['msg']} at {'.'.join(map(str, err.errors()[0]['loc']))}"
            ) from None
        for item in answer.retire:
            if item.key in known:
                retired.setdefault(item.key, f"the model ({model}): {item.reason or 'no reason'}")
    if known and set(retired) == known:
        raise ModelAnswerError(
            f"the model ({model}) would retire all {len(known)} memories; nothing was changed"
        )
    return retired


def windows(memories: Sequence[ListedMemory], limit: int | None = None) -> list[list[ListedMemory]]:
    """``memories`` split into calls of at most ``limit`` characters of listing.

    Ordered by attribute (the rules' slot of each text), then by text, so a contradiction
    or a restatement in the same words falls in one window; one memory alone longer than
    ``limit`` is a window of its own. ``limit`` defaults to :data:`WINDOW_CHARS`.
    """
    limit = WINDOW_CHARS if limit is None else limit

    def affinity(memory: ListedMemory) -> tuple[str, str]:
        slot = memory_slot(memory[1])
        return (slot.name if slot else "\uffff", memory[1].casefold())

    out: list[list[ListedMemory]] = []
    size = 0
    for memory in sorted(memories, key=affinity):
        line = len(listing([memory])) + 1
        if not out or size + line > limit:
            out.append([])
            size = 0
        out[-1].append(memory)
        size += line
    return out


async def model_retirements(context: Context, memories: Sequence[ListedMemory]) -> dict[str, str]:
    """Ask the chat model which of ``memories`` to retire: one call per window.

    A window of fewer than two memories has nothing to merge or contradict: no call.
    """
    if context.model is None or len(memories) < 2:
        return {}  # nothing to compare: no model is even built
    llm: Any = chat_model(context.model, context.model_timeout)
    # Forced: a model free to answer in prose would give nothing to check.
    bound = llm.bind_tools([RetireMemories], tool_choice=TOOL)
    retired: dict[str, str] = {}
    for window in windows(memories):
        if len(window) < 2:
            continue
        reply = await bound.ainvoke(
            [SystemMessage(CONSOLIDATION_INSTRUCTIONS), HumanMessage(listing(window))]
        )
        retired |= read(reply, [key for key, _, _ in window], context.model)
    return retired
