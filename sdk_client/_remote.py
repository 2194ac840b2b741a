"""What the sync and async remote executors share that does no I/O.

Like httpx's ``BaseClient``: settings resolved once (argument > env > default,
see :mod:`sdk_client._http`), the Ledger and the flows built over them, and
``submit()``, which only validates and hands over. Every method that talks to
the server is written once (:class:`RemoteMethods`): the sync executor inherits
it, the async one takes its :func:`async_twin`. The two executors add only their
plumbing (threads, or tasks on an event loop) and the driver that carries out
the flows of :mod:`sdk_client._flows` (``_drive_sync`` / ``_drive_async``).
"""

from __future__ import annotations

import abc
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._exit import warn_lost_at_exit
from sdk_client._flows import Flows
from sdk_client._http import DEFAULT_URL, HttpSettings
from sdk_client._ledger import Ledger
from sdk_client._retry import RetryPolicy
from sdk_client._sansio import Flow
from sdk_client._submission import NOT_GIVEN, Submission, SubmissionBuilder
from sdk_client.contract import validate_namespace
from sdk_client.errors import InvalidPayloadTypeError
from sdk_client.types import SubmissionFuture, ThreadStatus

__all__ = ["DEFAULT_URL", "RemoteExecutor", "RemoteMethods", "async_twin"]

logger = logging.getLogger("sdk_client")

T = TypeVar("T")
P = ParamSpec("P")
E = TypeVar("E", bound="RemoteExecutor[Any]")
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)

# Set while an async twin calls the method it mirrors: _drive then hands back an
# awaitable instead of doing the I/O. Reset before the twin awaits, so it never
# leaks into other calls on the same thread or task.
_IN_ASYNC_TWIN: ContextVar[bool] = ContextVar("sdk_client_in_async_twin", default=False)


def async_twin(
    method: Callable[Concatenate[E, P], T],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The coroutine version of a :class:`RemoteExecutor` method: same signature and docstring.

    The method is written once, as ``return self._drive(flow, ...)``; called
    through its twin, ``_drive`` returns an awaitable for the flow (on the
    executor's async client), which the twin awaits.
    """

    @functools.wraps(method)
    async def twin(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        token = _IN_ASYNC_TWIN.set(True)
        try:
            pending = method(self, *args, **kwargs)
        finally:
            _IN_ASYNC_TWIN.reset(token)
        return await cast(Awaitable[T], pending)

    return twin


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


class RemoteExecutor(abc.ABC, Generic[TransportT]):
    """The part of :class:`ReflectionExecutor` and :class:`AsyncReflectionExecutor` without I/O.

    Its constructor is the executors' one, written once: both take the same
    arguments, and ``TransportT`` is the httpx transport flavour of each. The
    methods that talk to the server are written once too (:class:`RemoteMethods`),
    each as the flow it runs (:mod:`sdk_client._flows`) handed to ``_drive``.

    Attributes:
        reflector: The graph or assistant id runs are created on.
        namespace: The memory namespace template.
        url: The server.
    """

    reflector: str
    namespace: tuple[str, ...]
    url: str

    def __init__(
        self,
        reflector: str,
        namespace: str | Sequence[str],
        /,
        *,
        url: str | None = None,
        client: LangGraphClient | None = None,
        sync_client: SyncLangGraphClient | None = None,
        api_key: str | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | None = None,
        transport: TransportT | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 0.5,
        sender_threads: int = 8,
        exit_timeout: float = 10.0,
    ) -> None:
        """Set up an executor; nothing is sent until the first ``submit()``.

        Args:
            reflector: The graph id (or assistant id) on the server, e.g. ``"memory_manager"``.
            namespace: Memory namespace, a string or tuple of labels; ``{name}``
                placeholders are filled from ``config["configurable"]`` at submit time.
            url: Server URL. Default: ``$LANGGRAPH_API_URL``, else ``http://127.0.0.1:2024``.
            client: An async ``langgraph_sdk`` client to use instead of building one
                (the sync executor uses it for ``asearch()`` only; default: a
                short-lived one per call there, so any event loop works).
            sync_client: A sync ``langgraph_sdk`` client to use instead of building
                one (the async executor uses it only at interpreter exit, see
                ``exit_timeout``).
            api_key: Sent as ``x-api-key``. Not given: ``$LANGGRAPH_API_KEY``, else
                ``$LANGSMITH_API_KEY``, else ``$LANGCHAIN_API_KEY``, as langgraph-sdk does;
                ``None``: send none.
            timeout: Per-request HTTP timeout (default: 5 s connect, 30 s read/write).
            transport: An httpx transport for the client the executor builds (e.g.
                ``httpx.MockTransport`` in tests): ``httpx.BaseTransport`` for
                :class:`ReflectionExecutor`, ``httpx.AsyncBaseTransport`` for
                :class:`AsyncReflectionExecutor`.
            retry: How to retry failed HTTP calls (default :class:`RetryPolicy()`).
            poll_interval: Seconds between checks for processed submissions.
            sender_threads: Background senders (threads, or tasks on the async
                executor's event loop; default 8). One thread always uses the same
                one, so its submissions reach the server in order.
            exit_timeout: At interpreter exit, how long to wait for handed-over
                submissions to be accepted before warning about the rest. The async
                executor's event loop is gone by then, so it sends them itself,
                over ``sync_client``.
        """
        self.reflector = _validate_reflector(reflector)
        self.namespace = validate_namespace(namespace)
        self._http = HttpSettings.resolve(url, api_key, timeout)
        self.url = self._http.url
        # Keyed servers: conversation keys map to threads through the key (contract).
        self._api_key = self._http.api_key or None
        self._poll_interval = poll_interval
        self._exit_timeout = exit_timeout
        self._ledger = Ledger()
        self._builder = SubmissionBuilder(self.namespace, self._api_key)
        self._flows = Flows(
            self._ledger,
            retry or RetryPolicy(),
            reflector=self.reflector,
            namespace=self.namespace,
            url=self.url,
            api_key=self._api_key,
        )
        self._set_up(client, sync_client, transport, sender_threads)

    @abc.abstractmethod
    def _set_up(
        self,
        client: LangGraphClient | None,
        sync_client: SyncLangGraphClient | None,
        transport: TransportT | None,
        sender_threads: int,
    ) -> None:
        """The executor's own plumbing: its clients, and its senders and watcher."""

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
        return self._hand_over(self._builder.build(payload, config, after_seconds, thread_id))

    @abc.abstractmethod
    def _hand_over(self, sub: Submission) -> SubmissionFuture:
        """Register ``sub`` in the Ledger and queue it for its thread's sender."""

    def _drive(self, flow: Flow[T], method: str | None) -> T:
        """Carry out ``flow``; inside an :func:`async_twin`, an awaitable for it instead.

        ``method`` names the public call (for the async executor's loop checks);
        None: the flow only waits on Futures and needs no client.
        """
        if _IN_ASYNC_TWIN.get():
            return cast(T, self._drive_async(flow, method))
        return self._drive_sync(flow, method is not None)

    @abc.abstractmethod
    def _drive_sync(self, flow: Flow[T], with_client: bool) -> T:
        """Run ``flow`` to its end on this thread."""

    @abc.abstractmethod
    async def _drive_async(self, flow: Flow[T], method: str | None) -> T:
        """Run ``flow`` to its end on the async client."""

    def _at_exit(self) -> None:
        """At interpreter exit: give ``unsent`` ``exit_timeout`` to be accepted, name the rest.

        See :mod:`sdk_client._exit`.
        """
        unsent = self._ledger.unsent()
        if unsent:
            deadline = time.monotonic() + self._exit_timeout
            self._send_at_exit()
            for fut in unsent:
                fut._wait_accepted_stage(max(0.0, deadline - time.monotonic()))
        warn_lost_at_exit(logger, self.url, unsent)

    def _send_at_exit(self) -> None:
        """Make sure something still sends the unsent submissions (the sync senders do)."""


class RemoteMethods(RemoteExecutor[TransportT]):
    """The methods that talk to the server, written once, in their sync form.

    :class:`ReflectionExecutor` inherits them; :class:`AsyncReflectionExecutor`
    does not (its methods are coroutines): it takes each one's :func:`async_twin`.
    """

    def status(self, thread_id: Any) -> ThreadStatus:
        """What the server is doing for a thread: idle, pending (and when due) or running."""
        return self._drive(self._flows.status(thread_id), "status")

    def cancel(self, thread_id: Any) -> int:
        """Cancel a thread's pending and running work: runs, inbox, and local Futures.

        Returns:
            How many of this executor's submissions were cancelled.
        """
        return self._drive(self._flows.cancel(thread_id), "cancel")

    def retry(self, thread_id: Any) -> bool:
        """Run a thread's waiting work again now, parked or not (``memory-reflect retry``).

        Returns:
            False if a run is already on its way (it will process the work).
        """
        return self._drive(self._flows.redrive(thread_id), "retry")

    def search(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Search stored memories (default: this executor's namespace), like langmem's executor."""
        return self._drive(self._flows.search(query, filter, limit, offset, namespace), "search")

    def wait_accepted(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is accepted by the server (or failed).

        The cheap wait before a caller exits (or a handler returns): after it,
        nothing accepted can be lost. Raises the first :class:`NotAcceptedError`, if any.
        """
        return self._drive(self._flows.wait_accepted(timeout), None)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        return self._drive(self._flows.flush(timeout), None)
