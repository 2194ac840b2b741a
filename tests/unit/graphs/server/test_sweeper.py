"""The idle-thread sweeper's settings and time handling (the sweep itself: integration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphs.server.sweeper import SweepSettings, _prefix, _updated_at


def test_defaults_keep_threads_a_week() -> None:
    settings = SweepSettings.from_env({})
    assert settings.thread_ttl_minutes == 10080
    assert settings.interval_seconds == 300
    assert settings.enabled


def test_env_values_are_read() -> None:
    settings = SweepSettings.from_env(
        {"MEMORY_THREAD_TTL_MINUTES": "0.5", "MEMORY_SWEEP_INTERVAL_SECONDS": " 2 "}
    )
    assert (settings.thread_ttl_minutes, settings.interval_seconds) == (0.5, 2.0)


def test_zero_ttl_turns_the_sweeper_off() -> None:
    assert not SweepSettings.from_env({"MEMORY_THREAD_TTL_MINUTES": "0"}).enabled


@pytest.mark.parametrize("raw", ["soon", "-1"])
def test_bad_values_name_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="MEMORY_THREAD_TTL_MINUTES"):
        SweepSettings.from_env({"MEMORY_THREAD_TTL_MINUTES": raw})


def test_updated_at_parses_the_servers_timestamps() -> None:
    expected = datetime(2026, 11, 24, 18, 4, 29, tzinfo=UTC)
    assert _updated_at({"updated_at": "2026-11-24T18:04:29+00:00"}) == expected
    assert _updated_at({"updated_at": "2026-11-24T18:04:29Z"}) == expected
    assert _updated_at({"created_at": expected.replace(tzinfo=None)}) == expected


def test_keyed_threads_are_checked_inside_their_owners_prefix() -> None:
    assert _prefix({"metadata": {"owner": "alice", "graph_id": "memory_manager"}}) == ("alice",)
    assert _prefix({"metadata": {"graph_id": "memory_manager"}}) == ()
