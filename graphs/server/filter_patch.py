"""Workaround: the in-memory runtime's thread ``values`` filter fails on a thread without values.

``langgraph dev`` (``langgraph-runtime-inmem``) answers ``POST /threads/search`` and
``/threads/count`` with a ``values`` filter through ``is_jsonb_contained(superset,
subset)``, its copy of Postgres' ``@>``. It starts with ``key not in superset`` on each
thread's values, which are ``None`` for a thread no run has written yet: a
``TypeError``, so HTTP 500 for every ``values`` filter as soon as one such thread exists
(found by the API fuzzer, ``make fuzz``). Postgres, and so the multi-process runtime,
says such a thread does not match.

:func:`apply` (called when the mounted app starts, ``graphs/server/app.py``) wraps the
function so that anything but an object as ``superset`` matches nothing, as ``@>`` does.
It patches only if a probe shows the fault (``is_jsonb_contained(None, {"a": 1})``
raises); when the installed runtime passes the probe, or is not installed (the
Postgres runtime), nothing is patched and the log says so.
``tests/unit/graphs/server/test_filter_patch.py`` fails when upstream has fixed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from graphs.server.workaround import Workaround, patch_in_memory_runtime

__all__ = ["apply", "contained", "probe"]

logger = logging.getLogger(__name__)

Contained = Callable[[Any, dict[str, Any]], bool]


def probe(is_jsonb_contained: Contained) -> str | None:
    """None if a thread without values simply does not match; else what went wrong."""
    try:
        if is_jsonb_contained(None, {"a": 1}):
            return "a thread without values matched {'a': 1}"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def contained(original: Contained) -> Contained:
    """``original``, except that values that are not an object contain nothing."""

    def is_jsonb_contained(superset: Any, subset: dict[str, Any]) -> bool:
        if not isinstance(superset, dict):
            return False  # as `@>` on SQL NULL: no match
        return original(superset, subset)

    return is_jsonb_contained


def _install(ops: Any) -> None:
    ops.is_jsonb_contained = contained(ops.is_jsonb_contained)


WORKAROUND = Workaround(
    lambda: patch_in_memory_runtime(
        logger,
        "graphs/server/filter_patch.py",
        lambda ops: probe(ops.is_jsonb_contained),
        _install,
        fixed="langgraph-runtime-inmem's values filter handles threads without values",
        active="a thread without values matches no values filter",
    )
)


def apply() -> bool:
    """Patch the in-memory runtime once per process if it needs it; True if active."""
    return WORKAROUND.apply()
