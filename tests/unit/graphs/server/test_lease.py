"""Slot arithmetic of the background jobs' claims (the claim itself: tests/scaleout)."""

from __future__ import annotations

import pytest

from graphs.server.lease import slot_of, slot_thread_id, until_next_slot


def test_slots_cut_time_into_periods() -> None:
    assert [slot_of(5.0, t) for t in (0.0, 4.999, 5.0, 12.5)] == [0, 0, 1, 2]
    assert slot_of(0.5, 1000.25) == 2000


def test_a_slot_has_one_thread_id_per_job_in_every_process() -> None:
    assert slot_thread_id("sweep", 7) == slot_thread_id("sweep", 7)
    ids = {slot_thread_id(job, slot) for job in ("sweep", "redelivery") for slot in (7, 8)}
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("period", "now", "jitter", "expected"),
    [
        (5.0, 12.0, 0.0, 3.0),  # to the start of slot 3 (15 s)
        (5.0, 15.0, 0.0, 5.0),  # at a slot's start: the next one, not this one again
        (5.0, 12.0, 1.0, 3.5),  # jitter: up to a tenth of the period...
        (300.0, 0.0, 1.0, 301.0),  # ...and at most a second
    ],
)
def test_sleep_until_just_after_the_next_slot(period, now, jitter, expected) -> None:
    assert until_next_slot(period, now, jitter) == pytest.approx(expected)


async def test_each_slot_runs_the_claimed_turns_and_survives_a_failed_one(monkeypatch, caplog):
    import asyncio

    from graphs.server import lease

    claims = iter([True, False, True, True])
    turns: list[int] = []

    async def claim(client, job, period):
        return next(claims)

    async def turn() -> None:
        turns.append(len(turns))
        if len(turns) == 1:
            raise RuntimeError("store unreachable")
        if len(turns) == 3:
            raise asyncio.CancelledError

    monkeypatch.setattr(lease, "claim", claim)
    monkeypatch.setattr(lease, "until_next_slot", lambda period: 0.0)
    with pytest.raises(asyncio.CancelledError):
        await lease.each_slot(None, "thread sweep", 1.0, turn)  # type: ignore[arg-type]
    assert turns == [0, 1, 2], "the unclaimed slot ran nothing; the failed turn stopped nothing"
    assert "thread sweep failed; will retry" in caplog.text
