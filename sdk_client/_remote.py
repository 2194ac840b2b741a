"""What the sync and async remote executors share that does no I/O.

Like httpx's ``BaseClient``: settings resolved once (argument > env > default),
the Ledger and the flows built over them, the langgraph-sdk clients built the
same way, and ``submit()``, which only validates and hands over. The two
executors add only their plumbing (threads, or tasks on an event loop) and
drive the flows of :mod:`sdk_client._flows`.
"""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._exit import warn_lost_at_exit
from sdk_client._flows import Flows
from sdk_client._ledger import Ledger
from sdk_client._retry import RetryPolicy
from sdk_client._sansio import run_async
from sdk_client._submission import NOT_GIVEN, Submission, build_submission
from sdk_client.contract import validate_namespace
from sdk_client.errors import InvalidPayloadTypeError
from sdk_client.types import SubmissionFuture

__all__ = ["DEFAULT_URL", "RemoteExecutor"]

logger = logging.getLogger("sdk_client")

DEFAULT_URL = "http://127.0.0.1:2024"
"""Where ``langgraph dev`` listens by default; used when neither ``url`` nor env says."""

_API_KEY_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
_DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)


def _headers(api_key: str | None) -> dict[str, str]:
    """Request headers; ``api_key`` NOT_GIVEN reads the env vars langgraph-sdk reads."""
    if api_key is NOT_GIVEN:
        api_key = next((os.environ[v] for v in _API_KEY_VARS if os.environ.get(v)), None)
    headers = {"User-Agent": "memory-reflect"}
    if api_key:
        headers["x-api-key"] = api_key
    return headers


def _validate_reflector(reflector: Any) -> str:
    if isinstance(reflector, str) and reflector:
        return reflector
    hint = ""
    if hasattr(reflector, "invoke"):
        hint = "; to run a Runnable in this process use LocalReflectionExecutor(runnable)"
    raise InvalidPayloadTypeError(
        "reflector: expected the graph or assistant id on the server, e.g. "
        f"'memory_manager', got {type(reflector).__name__}{hint}"
    )


def _http_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return _DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)


class RemoteExecutor(abc.ABC):
    """The part of :class:`ReflectionExecutor` and :class:`AsyncReflectionExecutor` without I/O.

    Attributes:
        reflector: The graph or assistant id runs are created on.
        namespace: The memory namespace template.
        url: The server.
    """

    reflector: str
    namespace: tuple[str, ...]
    url: str

    def _configure(
        self,
        reflector: str,
        namespace: str | Sequence[str],
        url: str | None,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        retry: RetryPolicy | None,
        poll_interval: float,
        /,
    ) -> None:
        """Validate and resolve the constructor's arguments; build the Ledger and the flows."""
        self.reflector = _validate_reflector(reflector)
        self.namespace = validate_namespace(namespace)
        self.url = url or os.environ.get("LANGGRAPH_API_URL") or DEFAULT_URL
        self._headers = _headers(api_key)
        # Keyed servers: conversation keys map to threads through the key (contract).
        self._api_key = self._headers.get("x-api-key")
        self._timeout = _http_timeout(timeout)
        self._poll_interval = poll_interval
        self._ledger = Ledger()
        self._flows = Flows(
            self._ledger,
            retry or RetryPolicy(),
            reflector=self.reflector,
            namespace=self.namespace,
            url=self.url,
            api_key=self._api_key,
        )

    # Built here rather than with get_(sync_)client(): its transport retries connects
    # five times with its own backoff, under ours, which makes "server down" take
    # ~15 s per try and hides our RetryPolicy.
    def _new_client(self, transport: httpx.BaseTransport | None) -> SyncLangGraphClient:
        transport = transport or httpx.HTTPTransport(retries=0)
        return SyncLangGraphClient(httpx.Client(transport=transport, **self._http_options()))

    def _new_async_client(self, transport: httpx.AsyncBaseTransport | None) -> LangGraphClient:
        transport = transport or httpx.AsyncHTTPTransport(retries=0)
        return LangGraphClient(httpx.AsyncClient(transport=transport, **self._http_options()))

    def _http_options(self) -> dict[str, Any]:
        return {"base_url": self.url, "headers": self._headers, "timeout": self._timeout}

    def submit(
        self,
        payload: Mapping[str, Any],
        /,
        config: Mapping[str, Any] | None = None,
        *,
        after_seconds: float = 0,
        thread_id: Any = NOT_GIVEN,
    ) -> SubmissionFuture:
        """Hand a conversation over for processing once the thread goes quiet.

        Returns at once, on either executor (it is not a coroutine on the async
        one): it validates and queues, and a background sender does the HTTP.
        A newer submission on the same thread within ``after_seconds``
        supersedes this one's run, and the run that executes processes both.
        The async executor's submit() must be called from its event loop.

        Args:
            payload: ``{"messages": [...]}``, OpenAI-style dicts, LangChain dicts
                or LangChain message objects.
            config: A LangGraph config; its ``configurable.thread_id`` names the
                thread when ``thread_id`` is not given, and its other
                ``configurable`` values fill namespace placeholders.
            after_seconds: Seconds of quiet to wait before processing (>= 0).
            thread_id: The conversation: a UUID or any string (mapped to a
                stable UUID). Default: from ``config`` or the LangGraph context.

        Returns:
            A :class:`SubmissionFuture`: ``fut.result()`` (or ``await fut``) is a
            :class:`SubmissionResult`; ``fut.wait_accepted()`` (or ``await
            fut.wait_accepted_async()``) waits until the server holds it.

        Raises:
            InvalidPayloadError: the payload, thread or namespace is malformed (before sending).
            ExecutorShutdownError: the executor was shut down.
            RuntimeError: (async executor) no running event loop, or another loop
                than the executor's.
        """
        sub = build_submission(
            payload,
            self.namespace,
            config=config,
            after_seconds=after_seconds,
            thread_id=thread_id,
            api_key=self._api_key,
        )
        return self._hand_over(sub)

    @abc.abstractmethod
    def _hand_over(self, sub: Submission) -> SubmissionFuture:
        """Register ``sub`` in the Ledger and queue it for its thread's sender."""

    # ReflectionExecutor.asearch and AsyncReflectionExecutor.search, written once.
    async def _search_async(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Search stored memories (default: this executor's namespace), like langmem's executor."""
        flow = self._flows.search(query, filter, limit, offset, namespace)
        async with self._async_api("search") as api:
            return await run_async(flow, api)

    @abc.abstractmethod
    def _async_api(self, method: str) -> AbstractAsyncContextManager[LangGraphClient]:
        """An async client for one call of ``method``."""

    def _at_exit(self) -> None:
        """At interpreter exit: name what the server never got (see :mod:`sdk_client._exit`)."""
        unsent = self._ledger.unsent()
        if unsent:
            self._wait_at_exit(unsent)
        warn_lost_at_exit(logger, self.url, unsent)

    def _wait_at_exit(self, unsent: list[SubmissionFuture]) -> None:
        """Let the senders try to get ``unsent`` accepted; the async executor cannot.

        Its event loop, where its senders ran, is gone by interpreter exit.
        """
        return
