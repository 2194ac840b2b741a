"""How the client talks HTTP: the one place it builds its clients, and how it retries.

:class:`HttpSettings` says where and how to talk to the server (URL, headers
with the API key, timeout); :meth:`HttpSettings.sync_client` and
:meth:`HttpSettings.async_client` build langgraph-sdk clients from it (for the
executors, the CLI and the benchmarks).

Built here rather than with langgraph-sdk's ``get_(sync_)client()``: its
transport retries connects five times with its own backoff, under ours, which
makes "server down" take ~15 s per try and hides our ``RetryPolicy``.

**Retries** (:class:`RetryPolicy`), capped exponential backoff with jitter, decided
once for both executors: connection errors, timeouts and other transport failures,
and HTTP 408, 425, 429 and 5xx (honouring ``Retry-After``). A 4xx that says the
request itself is wrong is never retried. :meth:`RetryPolicy.delay` decides whether
to try again and after how long; :func:`retrying` is the flow that repeats a call,
so the sync and async drivers only sleep when it says.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._submission import NOT_GIVEN
from sdk_client.records import NOT_A_USE_HEADER

__all__ = [
    "API_KEY_VARS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "HttpSettings",
    "RetryPolicy",
    "delay_for",
    "env_api_key",
    "retry_after_of",
    "should_retry",
]

DEFAULT_URL = "http://127.0.0.1:2024"
"""Where ``langgraph dev`` listens by default; used when neither ``url`` nor env says."""

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)

API_KEY_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
"""Where the API key comes from when none is given, in langgraph-sdk's order (the CLI's too)."""


def env_api_key() -> str | None:
    """The API key from the env vars langgraph-sdk reads, in its order; None if unset."""
    return next((os.environ[v] for v in API_KEY_VARS if os.environ.get(v)), None)


@dataclass(frozen=True)
class HttpSettings:
    """How to reach the server; each setting comes from the argument, else env, else default.

    Attributes:
        url: The server. Default: ``$LANGGRAPH_API_URL``, else :data:`DEFAULT_URL`.
        api_key: Sent as ``x-api-key`` (None: no key).
        timeout: Per-request timeout.
        user_agent: Names the caller in the server's logs.
        reads_are_uses: False: the server does not count the memories this client reads as
            used (an operator looking, not the agent), which would keep them from being
            forgotten as unused.
    """

    url: str
    api_key: str | None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    user_agent: str = "memory-reflect"
    reads_are_uses: bool = True

    @classmethod
    def resolve(
        cls,
        url: str | None = None,
        api_key: str | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | None = None,
        user_agent: str = "memory-reflect",
    ) -> HttpSettings:
        """Settings from arguments; ``api_key`` NOT_GIVEN reads the env (:func:`env_api_key`)."""
        if not isinstance(timeout, httpx.Timeout):
            timeout = DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
        return cls(
            url=url or os.environ.get("LANGGRAPH_API_URL") or DEFAULT_URL,
            api_key=env_api_key() if api_key is NOT_GIVEN else api_key,
            timeout=timeout,
            user_agent=user_agent,
        )

    @property
    def headers(self) -> dict[str, str]:
        """Request headers: the user agent, ``x-api-key`` when a key is set, not-a-use."""
        headers = {"User-Agent": self.user_agent}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if not self.reads_are_uses:
            headers[NOT_A_USE_HEADER] = "1"
        return headers

    def http(self, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        """A sync httpx client for the server (no transport-level retries)."""
        return httpx.Client(
            base_url=self.url,
            headers=self.headers,
            timeout=self.timeout,
            transport=transport or httpx.HTTPTransport(retries=0),
        )

    def sync_client(self, transport: httpx.BaseTransport | None = None) -> SyncLangGraphClient:
        """A sync langgraph-sdk client; close it with ``client.close()``."""
        return SyncLangGraphClient(self.http(transport))

    def async_client(self, transport: httpx.AsyncBaseTransport | None = None) -> LangGraphClient:
        """An async langgraph-sdk client, bound to the event loop it first runs on."""
        http = httpx.AsyncClient(
            base_url=self.url,
            headers=self.headers,
            timeout=self.timeout,
            transport=transport or httpx.AsyncHTTPTransport(retries=0),
        )
        return LangGraphClient(http)


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
