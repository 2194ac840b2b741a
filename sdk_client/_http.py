"""The one place the client builds its HTTP clients (executors, CLI, benchmarks).

:class:`HttpSettings` says where and how to talk to the server (URL, headers
with the API key, timeout); :meth:`HttpSettings.sync_client` and
:meth:`HttpSettings.async_client` build langgraph-sdk clients from it.

Built here rather than with langgraph-sdk's ``get_(sync_)client()``: its
transport retries connects five times with its own backoff, under ours, which
makes "server down" take ~15 s per try and hides our ``RetryPolicy``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._submission import NOT_GIVEN

__all__ = ["API_KEY_VARS", "DEFAULT_TIMEOUT", "DEFAULT_URL", "HttpSettings", "env_api_key"]

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
    """

    url: str
    api_key: str | None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    user_agent: str = "memory-reflect"

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
        """Request headers: the user agent, and ``x-api-key`` when a key is set."""
        headers = {"User-Agent": self.user_agent}
        if self.api_key:
            headers["x-api-key"] = self.api_key
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
