"""Retries with capped exponential backoff and jitter, decided once for both executors.

What is retried: connection errors, timeouts and other transport failures,
and HTTP 408, 429 and 5xx (honouring ``Retry-After``). A 4xx that says the
request itself is wrong is never retried. :meth:`RetryPolicy.delay` decides
whether to try again and after how long; :func:`retrying` is the flow that
repeats a call, so the sync and async drivers only sleep when it says.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sdk_client._sansio import Call, Flow, Sleep

__all__ = ["RetryPolicy", "delay_for", "retry_after_of", "retrying", "should_retry"]

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one HTTP call before giving up.

    Attributes:
        max_attempts: Total tries, the first included (1 = no retry).
        initial_delay: Seconds before the second try; doubles each time.
        max_delay: Cap on one delay, ``Retry-After`` included.
        jitter: Up to this fraction of the delay is added at random, so many
            clients do not retry in step.
    """

    max_attempts: int = 5
    initial_delay: float = 0.25
    max_delay: float = 8.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        """Refuse a policy that cannot work."""
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts: must be >= 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.jitter < 0:
            raise ValueError("RetryPolicy: delays and jitter must be >= 0")

    def delay(self, attempt: int, exc: BaseException) -> float | None:
        """Seconds to wait before trying again after failed try ``attempt`` (1-based).

        Returns:
            ``None`` when the call should not be tried again: the tries ran out,
            or ``exc`` says the request itself is wrong.
        """
        if attempt >= self.max_attempts or not should_retry(exc):
            return None
        return delay_for(self, attempt, exc)


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code if exc.response is not None else None
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def should_retry(exc: BaseException) -> bool:
    """True for transport failures and 408/425/429/5xx answers."""
    status = _status_of(exc)
    if status is not None:
        return status in _RETRY_STATUS
    return isinstance(exc, httpx.TransportError)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``), if it said."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def delay_for(policy: RetryPolicy, attempt: int, exc: BaseException) -> float:
    """Seconds to wait after failed try number ``attempt`` (1-based)."""
    asked = retry_after_of(exc)
    base = asked if asked is not None else policy.initial_delay * (2 ** (attempt - 1))
    base = min(base, policy.max_delay)
    return base + random.uniform(0, base * policy.jitter)


def retrying(policy: RetryPolicy, call: Call) -> Flow[Any]:
    """The flow that makes ``call`` until it succeeds, fails for good, or the tries run out.

    Use it as ``answer = yield from retrying(policy, Call(...))`` inside a flow.
    """
    attempt = 1
    while True:
        try:
            return (yield call)
        except Exception as exc:
            delay = policy.delay(attempt, exc)
            if delay is None:
                raise
        yield Sleep(delay)
        attempt += 1
