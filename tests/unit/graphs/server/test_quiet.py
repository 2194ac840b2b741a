"""The quiet job's decision: once per quiet period, never while extraction waits."""

from __future__ import annotations

import pytest

from graphs.server.quiet import QuietSettings, QuietView, is_due, quiet_thread_id
from sdk_client.records import consolidation_attempt

ON = QuietSettings(quiet_minutes=10)
T = 1_000_000.0


def _view(extracted_at: float, attempt_for: float | None = None, *, at: float = 0.0,
          waiting: bool = False) -> QuietView:  # fmt: skip
    attempt = None if attempt_for is None else consolidation_attempt(["m"], attempt_for, at, "r")
    return QuietView(extracted_at=extracted_at, attempt=attempt, waiting=waiting)


def test_a_namespace_is_due_once_it_has_been_quiet_long_enough():
    assert not is_due(_view(T), T + 599, ON)
    assert is_due(_view(T), T + 600, ON)
    assert not is_due(_view(T), T + 10_000, QuietSettings())  # off by default


def test_never_while_extraction_for_it_waits():
    assert not is_due(_view(T, waiting=True), T + 10_000, ON)


def test_at_most_once_per_quiet_period():
    done = _view(T, attempt_for=T, at=T + 600)
    assert not is_due(done, T + 100_000, ON)  # already consolidated since that extraction
    newer = _view(T + 5_000, attempt_for=T, at=T + 600)
    assert not is_due(newer, T + 5_100, ON)  # a new extraction: a new quiet period begins
    assert is_due(newer, T + 5_600, ON)


def test_with_a_repeat_it_comes_back_without_a_new_extraction():
    repeat = QuietSettings(quiet_minutes=10, repeat_hours=24)
    done = _view(T, attempt_for=T, at=T + 600)
    assert not is_due(done, T + 600 + 86_399, repeat)
    assert is_due(done, T + 600 + 86_400, repeat)


def test_settings_come_from_the_environment():
    env = {"MEMORY_QUIET_MINUTES": "30", "MEMORY_QUIET_INTERVAL_SECONDS": "5",
           "MEMORY_QUIET_REPEAT_HOURS": "24"}  # fmt: skip
    assert QuietSettings.from_env(env) == QuietSettings(30, 5, 24)
    assert not QuietSettings.from_env({}).enabled
    with pytest.raises(ValueError, match="MEMORY_QUIET_MINUTES"):
        QuietSettings.from_env({"MEMORY_QUIET_MINUTES": "-1"})


def test_each_users_namespace_has_its_own_thread():
    ids = {quiet_thread_id(p, ns) for p in [(), ("alice",), ("bob",)]
           for ns in [("m", "a"), ("m",), ("a", "m")]}  # fmt: skip
    assert len(ids) == 9 and quiet_thread_id(("a",), ("m",)) == quiet_thread_id(("a",), ("m",))
