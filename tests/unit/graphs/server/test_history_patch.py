"""A thread history's ``before`` as the API documents it (graphs.server.history_patch).

The first test says when upstream has fixed the fault: it fails then, asking for the
workaround to be removed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_runtime_inmem import ops

from graphs.server import history_patch

ORIGINAL = ops.Threads.State.list


def test_the_checkpointer_still_fails_on_a_checkpoint_object_as_before():
    found = history_patch.probe()
    assert found is not None and "KeyError" in found, (
        "langgraph's checkpointer lists before a checkpoint object now: remove "
        "graphs/server/history_patch.py and its call in graphs/server/app.py"
    )


def test_before_is_read_as_the_checkpoint_it_names():
    flat = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c"}
    assert history_patch.as_config(flat) == {"configurable": flat}
    nested = {"configurable": {"checkpoint_id": "c"}}
    for unchanged in (nested, "c", None, {}):
        assert history_patch.as_config(unchanged) is unchanged
    saver = InMemorySaver()
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    first = saver.put(config, empty_checkpoint(), {"step": 1}, {})
    second = saver.put(first, empty_checkpoint(), {"step": 2}, {})
    before = history_patch.as_config(dict(second["configurable"]))
    listed = list(saver.list(config, before=before))
    assert [t.metadata["step"] for t in listed] == [1]


def test_the_wrapper_passes_everything_else_on():
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def list_states(*args: Any, **kwargs: Any) -> list[str]:
        seen.append((args, kwargs))
        return ["state"]

    wrapped = history_patch.reading_checkpoint_before(list_states)
    flat = {"checkpoint_id": "c"}
    assert asyncio.run(wrapped("conn", config={}, limit=2, before=flat)) == ["state"]
    assert asyncio.run(wrapped("conn", config={}, limit=1)) == ["state"]
    assert seen == [
        (("conn",), {"config": {}, "limit": 2, "before": {"configurable": flat}}),
        (("conn",), {"config": {}, "limit": 1}),
    ]


def test_apply_patches_the_runtime_once(monkeypatch):
    monkeypatch.setattr(ops.Threads.State, "list", staticmethod(ORIGINAL))
    monkeypatch.setattr(history_patch.WORKAROUND, "outcome", None)
    assert history_patch.apply() is True
    patched = ops.Threads.State.list
    assert patched is not ORIGINAL
    assert history_patch.apply() is True and ops.Threads.State.list is patched
