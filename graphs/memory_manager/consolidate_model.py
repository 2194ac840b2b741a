"""Consolidation on the LLM path: one chat-model call per namespace says what to retire.

With a ``model`` configured, consolidation shows the model every memory of the
namespace (key, last update, text) and offers it one tool, ``RetireMemories``: the keys
to retire, each with a reason. Its answer is checked before anything is staged:

- keys it names that the namespace does not hold are ignored (a model may invent or
  mistype one; retiring nothing in their place is safe);
- an answer that would retire every memory is refused, changing nothing (an empty or
  confused reply must not wipe a user's memory, mastra#22074);
- a reply with no call of the tool, or arguments of the wrong shape, fails the run:
  nothing was staged, so nothing changes, and the error says why.

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
from graphs.memory_manager.prompts import CONSOLIDATION_INSTRUCTIONS

__all__ = ["TOOL", "ModelAnswerError", "RetireMemories", "listing", "model_retirements", "read"]


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


def listing(memories: Sequence[tuple[str, str, float]]) -> str:
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


async def model_retirements(
    context: Context, memories: Sequence[tuple[str, str, float]]
) -> dict[str, str]:
    """Ask the chat model, once, which of ``memories`` (key, text, updated_at) to retire.

    Fewer than two memories: nothing to merge or contradict, and no call is made.
    """
    if len(memories) < 2 or context.model is None:
        return {}
    llm: Any = chat_model(context.model, context.model_timeout)
    # Forced: a model free to answer in prose would give nothing to check.
    bound = llm.bind_tools([RetireMemories], tool_choice=TOOL)
    reply = await bound.ainvoke(
        [SystemMessage(CONSOLIDATION_INSTRUCTIONS), HumanMessage(listing(memories))]
    )
    return read(reply, [key for key, _, _ in memories], context.model)
