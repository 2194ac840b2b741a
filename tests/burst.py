"""Bursts that must become one run, and the premise that makes them one.

Single-turn submissions to one thread, each ``after_seconds`` apart at most, become one
run only if each is accepted before the previous one's run falls due; a run that has
started is rightly not superseded (the next submission queues behind it). On a machine
stalled for seconds, that premise breaks and "exactly one run" fails without a bug.

:class:`Burst` times each submission against the previous one's due time (by this
process's clock: a run falls due ``after_seconds`` after ``submit()`` was called,
``sdk_client/_submission.py``). :meth:`Burst.outcome` wraps the assertions about the
outcome: if they fail while the premise did not hold, the test fails with a clear
"machine too slow" message instead of a misleading one; if they pass, a late
acceptance did no harm. Where the LLM path is used, tests hold a run with the scripted
model's gate instead, which makes the premise hold on any machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import SyncLangGraphClient

from sdk_client import ReflectionExecutor, SubmissionFuture
from tests.server import message


class Burst:
    """Times the submissions of one or more bursts (one key per thread or round)."""

    def __init__(self, after_seconds: float) -> None:
        self.after_seconds = after_seconds
        self.late: list[str] = []
        self._due: dict[object, tuple[int, float]] = {}

    @contextmanager
    def submission(self, key: object = None) -> Iterator[None]:
        """Wrap ``submit()`` and the wait for acceptance of one submission of burst ``key``."""
        started = time.monotonic()
        yield
        accepted = time.monotonic()
        n, due = self._due.get(key, (0, float("inf")))
        if accepted >= due:
            self.late.append(
                f"{key!r}: submission {n + 1} was accepted {accepted - due:.1f} s after "
                f"submission {n}'s run was due"
            )
        self._due[key] = (n + 1, started + self.after_seconds)

    def submit(
        self,
        executor: ReflectionExecutor,
        turn: str,
        thread_id: str,
        config: Mapping[str, Any] | None = None,
    ) -> SubmissionFuture:
        """Submit one single-turn payload of burst ``thread_id`` and wait until it is accepted."""
        with self.submission(thread_id):
            fut = executor.submit(
                message(turn),
                config,
                after_seconds=self.after_seconds,
                thread_id=thread_id,
            )
            fut.wait_accepted(timeout=30)
        return fut

    @contextmanager
    def outcome(self) -> Iterator[None]:
        """Assertions about the burst's outcome; blamed on the machine if the premise broke."""
        try:
            yield
        except AssertionError as err:
            if not self.late:
                raise
            pytest.fail(
                "machine too slow: the burst's premise (each submission accepted before the "
                f"previous one's run was due, after_seconds={self.after_seconds}) did not "
                f"hold, so more than one run is correct: {'; '.join(self.late)}. "
                f"The assertion that failed: {err}"
            )


def assert_only_the_last_run(sdk: SyncLangGraphClient, thread_id: str, run_ids: list[str]) -> None:
    """A burst's thread keeps only its last run, succeeded; each superseded run is gone (404)."""
    runs = sdk.runs.list(thread_id, limit=50)
    assert [(r["run_id"], r["status"]) for r in runs] == [(run_ids[-1], "success")]
    for superseded in run_ids[:-1]:
        with pytest.raises(httpx.HTTPStatusError) as info:
            sdk.runs.get(thread_id, superseded)
        assert info.value.response.status_code == 404
