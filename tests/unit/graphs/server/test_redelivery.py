"""The redeliverer's decision and schedule, without a server (the server test is integration)."""

from __future__ import annotations

import pytest

from graphs.server.redelivery import Park, Redeliver, RedeliverySettings, ThreadView, Wait, decide
from sdk_client.records import DeliveryRecord

S = RedeliverySettings(attempts=3, backoff_seconds=10, max_backoff_seconds=25, grace_seconds=30)


def record(attempts: int, next_at: float | None = 0.0, parked: bool = False) -> DeliveryRecord:
    return {
        "attempts": attempts, "max_attempts": 3, "next_at": next_at, "parked": parked,
        "last_error": "", "last_run_id": None, "updated_at": 0.0,
    }  # fmt: skip


def view(rec: DeliveryRecord | None = None, busy: bool = False, due: float = 0.0) -> ThreadView:
    return ThreadView(oldest_due=due, busy=busy, record=rec)


def test_work_with_a_run_on_its_way_is_left_alone():
    assert decide(view(busy=True), 1000, S, 0) == Wait()
    assert decide(view(due=980), 1000, S, 0) == Wait()  # within the grace after due


def test_stranded_work_is_redelivered_with_backoff():
    assert decide(view(due=900), 1000, S, 0) == Redeliver(1, 1010)
    assert decide(view(record(1, next_at=1010)), 1005, S, 0) == Wait()
    assert decide(view(record(1, next_at=1010)), 1010, S, 0) == Redeliver(2, 1030)
    assert decide(view(record(2, next_at=1030)), 1030, S, 0) == Redeliver(3, 1055)  # capped


def test_jitter_takes_up_to_half_off():
    assert S.delay(1, 0.0) == 10 and S.delay(1, 0.999) == pytest.approx(5.005)
    assert S.delay(5, 0.0) == 25


def test_after_the_last_attempt_the_work_is_parked_and_stays_parked():
    assert decide(view(record(3, next_at=1055)), 1060, S, 0) == Park()
    assert decide(view(record(3, next_at=None, parked=True)), 9999, S, 0) == Wait()


def test_settings_from_env():
    assert RedeliverySettings.from_env({}) == RedeliverySettings()
    assert RedeliverySettings().enabled
    off = RedeliverySettings.from_env({"MEMORY_REDELIVERY_ATTEMPTS": "0"})
    assert not off.enabled
    with pytest.raises(ValueError, match="MEMORY_REDELIVERY_ATTEMPTS='2.5': expected an integer"):
        RedeliverySettings.from_env({"MEMORY_REDELIVERY_ATTEMPTS": "2.5"})
    with pytest.raises(ValueError, match=">= 0"):
        RedeliverySettings.from_env({"MEMORY_REDELIVERY_GRACE_SECONDS": "-1"})


def test_default_schedule_absorbs_a_few_minutes():
    s = RedeliverySettings()
    worst = s.grace_seconds + sum(s.delay(n, 0.999) for n in range(1, s.attempts + 1))
    best = s.grace_seconds + sum(s.delay(n, 0.0) for n in range(1, s.attempts + 1))
    assert 180 < worst < best < 600
