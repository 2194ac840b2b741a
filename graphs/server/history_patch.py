"""Workaround: the in-memory runtime fails on a thread history's ``before`` as the API documents it.

``POST /threads/{id}/history`` takes ``before``, "return states before this
checkpoint", as a ``CheckpointConfig``: ``{"checkpoint_id": ..., "checkpoint_ns": ...,
"thread_id": ...}`` (the server's own API document; langgraph-sdk's ``get_history``
sends its ``Checkpoint``, the same shape). ``langgraph dev`` (``langgraph-runtime-inmem``,
``Threads.State.list``) turns a string into ``{"configurable": {"checkpoint_id": ...}}``
but hands an object to langgraph's checkpointer as it is, and the checkpointer reads
``before["configurable"]``: a ``KeyError``, so HTTP 500 for every such request on a
thread with checkpoints (found by the API fuzzer, ``make fuzz``).

:func:`apply` (called when the mounted app starts, ``graphs/server/app.py``) wraps
``Threads.State.list`` so that a ``before`` object without ``configurable`` is read as
the checkpoint it describes, ``{"configurable": before}``; one with ``configurable``
(langgraph's own config shape) passes unchanged. It patches only if a probe shows the
fault (langgraph's checkpointer, listing a thread before such a ``before``, raises); when
it does not, or the in-memory runtime is not installed (the Postgres runtime), nothing
is patched and the log says so. ``tests/unit/graphs/server/test_history_patch.py`` fails
when the probe passes unpatched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from graphs.server.workaround import Workaround, patch_in_memory_runtime

__all__ = ["apply", "as_config", "probe", "reading_checkpoint_before"]

logger = logging.getLogger(__name__)

ListStates = Callable[..., Awaitable[Any]]


def as_config(before: Any) -> Any:
    """``before`` as langgraph's checkpointer reads it: a checkpoint object in ``configurable``."""
    if isinstance(before, dict) and before and "configurable" not in before:
        return {"configurable": before}
    return before


def probe(saver: InMemorySaver | None = None) -> str | None:
    """None if langgraph's checkpointer lists before the API's checkpoint object; else the error."""
    saver = saver or InMemorySaver()
    config: RunnableConfig = {"configurable": {"thread_id": "probe", "checkpoint_ns": ""}}
    try:
        written = saver.put(config, empty_checkpoint(), {}, {})
        list(saver.list(config, before=dict(written["configurable"])))  # type: ignore[arg-type]
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def reading_checkpoint_before(original: ListStates) -> ListStates:
    """``original`` (``Threads.State.list``), with ``before`` passed through :func:`as_config`."""

    async def list_states(*args: Any, **kwargs: Any) -> Any:
        if "before" in kwargs:
            kwargs["before"] = as_config(kwargs["before"])
        return await original(*args, **kwargs)

    return list_states


def _install(ops: Any) -> None:
    ops.Threads.State.list = staticmethod(reading_checkpoint_before(ops.Threads.State.list))


WORKAROUND = Workaround(
    lambda: patch_in_memory_runtime(
        logger,
        "graphs/server/history_patch.py",
        lambda ops: probe(),
        _install,
        fixed="langgraph's checkpointer lists before a checkpoint object",
        active="a thread history's `before` object is read as the checkpoint it names",
    )
)


def apply() -> bool:
    """Patch the in-memory runtime once per process if it needs it; True if active."""
    return WORKAROUND.apply()
