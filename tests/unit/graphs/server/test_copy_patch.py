"""langgraph-runtime-inmem's thread copy and the copy's checkpoints (graphs.server.copy_patch).

The first test says when upstream has fixed the fault: it fails then, asking for the
workaround to be removed.
"""

from __future__ import annotations

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_runtime_inmem import ops

from graphs.server import copy_patch

ORIGINAL = ops._replace_thread_id
OLD, NEW = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def _copy(saver: InMemorySaver, replace: copy_patch.Replace) -> None:
    """What ``Threads.copy`` does with the source thread's checkpoints."""
    saver.storage[NEW] = replace(saver.storage[OLD], NEW, OLD)


def _config(thread_id: str, ns: str = "") -> dict:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}


def test_the_runtime_still_fails_on_a_copy_of_a_thread_without_checkpoints():
    found = copy_patch.probe(ORIGINAL)
    assert found is not None and "KeyError" in found, (
        "langgraph-runtime-inmem's thread copy keeps the checkpoints' defaults now: remove "
        "graphs/server/copy_patch.py and its call in graphs/server/app.py"
    )
    saver = InMemorySaver()
    _copy(saver, ORIGINAL)
    with pytest.raises(KeyError):  # GET /threads/{copy}/state: HTTP 500
        saver.get_tuple(_config(NEW))


def test_the_workaround_reads_and_writes_a_copy_as_any_thread():
    fixed = copy_patch.keeping_defaults(ORIGINAL)
    assert copy_patch.probe(fixed) is None
    saver = InMemorySaver()
    _copy(saver, fixed)
    assert saver.get_tuple(_config(NEW)) is None  # no checkpoint yet, as a new thread
    written = saver.put(_config(NEW), empty_checkpoint(), {}, {})  # a run on the copy
    assert saver.get_tuple(written) is not None
    assert saver.get_tuple(_config(NEW, "sub:1")) is None


def test_the_workaround_copies_checkpoints_as_before():
    saver = InMemorySaver()
    first = saver.put(_config(OLD), empty_checkpoint(), {"thread": OLD}, {})
    _copy(saver, copy_patch.keeping_defaults(ORIGINAL))
    copied = saver.get_tuple(_config(NEW))
    assert copied is not None
    assert copied.config["configurable"]["checkpoint_id"] == first["configurable"]["checkpoint_id"]
    assert copied.metadata == {"thread": NEW}  # the thread id replaced, as upstream does
    # Anything but a defaultdict comes back as the original returns it.
    plain = copy_patch.keeping_defaults(ORIGINAL)({"a": OLD}, NEW, OLD)
    assert type(plain) is dict and plain == {"a": NEW}
    assert copy_patch.keeping_defaults(ORIGINAL)([OLD], NEW, OLD) == [NEW]


def test_apply_patches_the_runtime_once(monkeypatch):
    monkeypatch.setattr(ops, "_replace_thread_id", ORIGINAL)
    monkeypatch.setattr(copy_patch.WORKAROUND, "outcome", None)
    assert copy_patch.apply() is True
    patched = ops._replace_thread_id
    assert patched is not ORIGINAL and copy_patch.probe(patched) is None
    assert copy_patch.apply() is True and ops._replace_thread_id is patched
