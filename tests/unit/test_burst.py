"""The test helper that tells a stalled machine from a bug in "one run per burst" (tests/burst.py)."""

from __future__ import annotations

import pytest

from tests import burst as burst_module
from tests.burst import Burst


@pytest.fixture
def clock(monkeypatch):
    """Set ``clock[:] = [...]``: the successive values of ``time.monotonic()``."""
    ticks: list[float] = []
    monkeypatch.setattr(burst_module.time, "monotonic", lambda: ticks.pop(0))
    return ticks


def submit(b: Burst, key: object = None) -> None:
    with b.submission(key):
        pass


def test_on_time_the_outcome_fails_as_itself(clock):
    clock[:] = [0.0, 0.1, 0.5, 0.9]  # second accepted at 0.9, before the first's due 1.0
    b = Burst(1.0)
    submit(b)
    submit(b)
    assert b.late == []
    with pytest.raises(AssertionError, match="two runs"), b.outcome():
        raise AssertionError("two runs")


def test_late_the_failing_outcome_is_blamed_on_the_machine(clock):
    clock[:] = [0.0, 0.1, 0.5, 1.2]  # accepted 0.2 s after the first submission's run was due
    b = Burst(1.0)
    submit(b)
    submit(b)
    with pytest.raises(pytest.fail.Exception) as info, b.outcome():
        raise AssertionError("two runs")
    text = str(info.value)
    assert text.startswith("machine too slow")
    assert "submission 2 was accepted 0.2 s after submission 1's run was due" in text
    assert "The assertion that failed: two runs" in text
    with b.outcome():  # late, but one run all the same: nothing to blame
        pass


def test_each_key_is_its_own_burst(clock):
    clock[:] = [0.0, 0.1, 5.0, 5.1, 5.2, 5.3]
    b = Burst(1.0)
    submit(b, "a")
    submit(b, "b")  # 5 s later, but the first of its own burst
    submit(b, "b")
    assert b.late == []
