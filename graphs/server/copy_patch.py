"""Workaround: the in-memory runtime's thread copy leaves the copy's checkpoints without defaults.

``langgraph dev`` (``langgraph-runtime-inmem``) copies a thread (``POST
/threads/{id}/copy``) by sending the source thread's checkpoints, ``storage[thread_id]``
(a ``defaultdict`` from namespace to checkpoints), through ``_replace_thread_id``, a
round trip through JSON that swaps the thread id, and storing what comes back: a plain
``dict``. Every later lookup of a namespace the source had no checkpoint in is then a
``KeyError`` in langgraph's ``InMemorySaver``: for a copy of a thread no run had written
yet, ``GET /threads/{copy}/state`` and ``POST /threads/{copy}/state/checkpoint`` answer
500 with ``KeyError: ''`` once the thread names its graph (found by the API fuzzer's
stateful phase, ``make fuzz``), and a run on the copy fails writing its first checkpoint.
Postgres, and so the multi-process runtime, has no such table: a copy reads as any
thread does.

:func:`apply` (called when the mounted app starts, ``graphs/server/app.py``) wraps
``_replace_thread_id`` so that a ``defaultdict`` comes back as one with the same default.
It patches only if a probe shows the fault (the copy of an empty ``defaultdict(dict)``
has no default); when the installed runtime passes the probe, or is not installed (the
Postgres runtime), nothing is patched and the log says so.
``tests/unit/graphs/server/test_copy_patch.py`` fails when upstream has fixed it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from graphs.server.workaround import Workaround, patch_in_memory_runtime

__all__ = ["apply", "keeping_defaults", "probe"]

logger = logging.getLogger(__name__)

Replace = Callable[[Any, Any, Any], Any]

_OLD = "00000000-0000-4000-8000-000000000001"
_NEW = "00000000-0000-4000-8000-000000000002"


def probe(replace_thread_id: Replace) -> str | None:
    """None if a copied thread's checkpoints still default a namespace; else what went wrong."""
    try:
        copied = replace_thread_id(defaultdict(dict), _NEW, _OLD)
        if copied[""] != {}:
            return f"a copy of no checkpoints holds {copied['']!r}"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def keeping_defaults(original: Replace) -> Replace:
    """``original``, except that a ``defaultdict`` comes back as one with the same default."""

    def _replace_thread_id(data: Any, new_thread_id: Any, thread_id: Any) -> Any:
        copied = original(data, new_thread_id, thread_id)
        if isinstance(data, defaultdict) and type(copied) is dict:
            return defaultdict(data.default_factory, copied)
        return copied

    return _replace_thread_id


def _install(ops: Any) -> None:
    ops._replace_thread_id = keeping_defaults(ops._replace_thread_id)


WORKAROUND = Workaround(
    lambda: patch_in_memory_runtime(
        logger,
        "graphs/server/copy_patch.py",
        lambda ops: probe(ops._replace_thread_id),
        _install,
        fixed="langgraph-runtime-inmem's thread copy keeps its checkpoints' defaults",
        active="a copied thread reads and runs as any thread",
    )
)


def apply() -> bool:
    """Patch the in-memory runtime once per process if it needs it; True if active."""
    return WORKAROUND.apply()
