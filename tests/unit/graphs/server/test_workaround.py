"""What the upstream workarounds share: applied once per process, and the log says which way."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphs.server.workaround import Outcome, Workaround, patch_in_memory_runtime, patch_verified

LOG = logging.getLogger("tests.workaround")


def test_apply_runs_the_patch_once_however_often_and_from_whichever_thread():
    calls: list[int] = []

    def once() -> Outcome:
        calls.append(1)
        return "active"

    workaround = Workaround(once)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: workaround.apply(), range(32)))
    assert answers == [True] * 32 and calls == [1] and workaround.outcome == "active"


def test_a_patch_that_is_not_needed_is_not_active():
    workaround = Workaround(lambda: "not needed")
    assert workaround.apply() is False and workaround.outcome == "not needed"


def test_the_runtime_is_patched_only_when_the_probe_finds_the_fault(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    installed: list[Any] = []

    def run(found: str | None) -> Outcome:
        return patch_in_memory_runtime(
            LOG, "x_patch.py", lambda ops: found, installed.append, fixed="fine", active="on"
        )

    assert run(None) == "not needed" and installed == []
    assert caplog.records[-1].getMessage() == "memory-reflect: fine; x_patch.py can be removed"
    assert run("KeyError: ''") == "active" and len(installed) == 1
    assert caplog.records[-1].getMessage() == (
        "memory-reflect: workaround active: on (unpatched: KeyError: '')"
    )


def test_a_replacement_is_kept_only_if_the_probe_then_passes(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    faults = {"old": "walks", "new": None, "useless": "still walks", "fixed": None}
    installed: list[str] = []

    def run(original: str, replacement: str) -> Outcome:
        return patch_verified(LOG, "x_patch.py", faults.get, installed.append, original,
                              replacement, fixed="fine", active="on", misfit="no fit")  # fmt: skip

    assert run("fixed", "new") == "not needed" and installed == []
    assert caplog.records[-1].getMessage() == "memory-reflect: fine; x_patch.py can be removed"
    assert run("old", "new") == "active" and installed == ["new"]
    assert (
        caplog.records[-1].getMessage()
        == "memory-reflect: workaround active: on (unpatched: walks)"
    )
    installed.clear()
    assert run("old", "useless") == "failed" and installed == ["useless", "old"]
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].getMessage() == "memory-reflect: no fit (still walks); not applied"
