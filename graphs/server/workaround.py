"""What every workaround for an upstream bug shares: probed, applied at most once, logged.

Each ``*_patch.py`` beside this module fixes one bug in a package we do not own. A
patch is applied only if a probe shows the fault in the installed version, once per
process however often (and from whichever thread) it is asked, and the log says either
that it is active or that it can be removed. :class:`Workaround` holds the once;
:func:`patch_in_memory_runtime` the steps the patches of ``langgraph dev``'s in-memory
runtime have in common (the Postgres runtime is not patched: it is not installed there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

__all__ = ["Outcome", "Workaround", "patch_in_memory_runtime", "patch_verified"]

T = TypeVar("T")

Outcome = Literal["active", "not needed", "not installed", "failed"]


class Workaround:
    """One patch, applied by the first :meth:`apply` of the process; later calls only answer."""

    def __init__(self, apply_once: Callable[[], Outcome]) -> None:
        self._apply_once = apply_once
        self._lock = threading.Lock()
        self.outcome: Outcome | None = None
        """None until the first :meth:`apply`; tests reset it to apply again."""

    def apply(self) -> bool:
        """Probe and patch if not done yet in this process; True if the workaround is active."""
        with self._lock:
            if self.outcome is None:
                self.outcome = self._apply_once()
            return self.outcome == "active"


def patch_in_memory_runtime(
    logger: logging.Logger,
    patch_file: str,
    probe: Callable[[Any], str | None],
    install: Callable[[Any], None],
    *,
    fixed: str,
    active: str,
) -> Outcome:
    """Patch ``langgraph_runtime_inmem.ops`` with ``install`` if ``probe(ops)`` finds the fault.

    ``probe`` answers None when the installed runtime is fine, else what went wrong;
    ``fixed`` and ``active`` are the log's words for either case.
    """
    try:
        from langgraph_runtime_inmem import ops  # type: ignore[import-untyped]
    except ImportError:
        return "not installed"
    found = probe(ops)
    if found is None:
        logger.info("memory-reflect: %s; %s can be removed", fixed, patch_file)
        return "not needed"
    install(ops)
    logger.info("memory-reflect: workaround active: %s (unpatched: %s)", active, found)
    return "active"


def patch_verified(
    logger: logging.Logger,
    patch_file: str,
    probe: Callable[[T], str | None],
    install: Callable[[T], None],
    original: T,
    replacement: T,
    *,
    fixed: str,
    active: str,
    misfit: str,
) -> Outcome:
    """Install ``replacement`` if ``probe(original)`` finds the fault; keep it if it then passes.

    ``probe`` answers None when what it is given is fine, else what went wrong. A
    replacement the probe still faults is taken out again (``original`` put back), so
    an upstream change that breaks the patch costs a warning, not the server.
    ``fixed``, ``active`` and ``misfit`` are the log's words for each outcome.
    """
    found = probe(original)
    if found is None:
        logger.info("memory-reflect: %s; %s can be removed", fixed, patch_file)
        return "not needed"
    install(replacement)
    still = probe(replacement)
    if still is not None:
        install(original)
        logger.warning("memory-reflect: %s (%s); not applied", misfit, still)
        return "failed"
    logger.info("memory-reflect: workaround active: %s (unpatched: %s)", active, found)
    return "active"
