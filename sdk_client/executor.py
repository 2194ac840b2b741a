"""``ReflectionExecutor``: submit conversations for deferred, debounced memory processing.

Call shape matches langmem's remote executor, so it swaps in::

    executor = ReflectionExecutor("memory_manager", ("memories", "{user_id}"),
                                  url="http://127.0.0.1:2024")
    fut = executor.submit({"messages": [...]}, after_seconds=30, thread_id="chat-42",
                          config={"configurable": {"user_id": "alice"}})
    fut.wait_accepted()   # the server holds it now; safe to exit
    fut.result()          # ... or wait until processed: a SubmissionResult

How it works: ``submit()`` validates and queues (no I/O on the caller's
thread). A background sender, one queue per thread kept in order, writes the
submission to the thread's *inbox* in the server's store and then creates a
run with ``multitask_strategy="rollback"`` and ``after_seconds``. A newer
submission's run deletes the pending one, but not the inbox, and the run that
finally executes processes the whole inbox. A run that is already running is
never superseded (it may have called the model): the new run is enqueued
behind it (see ``RunPlan``). A watcher resolves each Future when the run leaves
a receipt for its submission.

What to send and what the answers mean is decided once, in the flows of
:mod:`sdk_client._flows`; this module only carries them out
(:func:`~sdk_client._flows.run_sync`) on its sender threads, its watcher
thread and in its methods, each a one-line twin of
:class:`~sdk_client.AsyncReflectionExecutor`'s. Like httpx's ``_client.py``,
it also holds what both executors share without I/O (:class:`RemoteExecutor`:
the constructor, ``submit()``, how a sender takes its batch, and what happens
at interpreter exit); the async executor imports it from here.
"""

from __future__ import annotations

import abc
import atexit
import logging
import queue
import threading
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._exit import ShutdownOnExit
from sdk_client._flows import Flows, run_async, run_sync
from sdk_client._http import DEFAULT_URL, HttpSettings, RetryPolicy
from sdk_client._ledger import Ledger
from sdk_client._submission import NOT_GIVEN, Request, Submission, SubmissionBuilder
from sdk_client.contract import validate_namespace
from sdk_client.errors import InvalidPayloadTypeError
from sdk_client.types import MemoryChange, Stage, SubmissionFuture, ThreadStatus

__all__ = [
    "DEFAULT_URL",
    "ReflectionExecutor",
    "RemoteExecutor",
    "forget_at_exit",
    "group_by_thread",
    "next_batch",
    "sender_for",
    "track_at_exit",
]

logger = logging.getLogger("sdk_client")

TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


# ----------------------------------------------------------------- the senders'
# A thread always goes to the same sender, so its submissions reach the server in
# order; a sender takes whatever queued up behind its first submission and sends
# each thread's share as few requests as it can.


def sender_for(thread_id: str, senders: int) -> int:
    """The sender a thread always uses, so its submissions reach the server in order."""
    return zlib.crc32(thread_id.encode()) % senders


def _take_batch(
    first: Submission, get_nowait: Callable[[], Submission | None], empty: type[Exception]
) -> tuple[list[Submission], bool]:
    """``first`` and whatever queued up behind it; True if the stop marker was among them."""
    batch = [first]
    while True:
        try:
            nxt = get_nowait()
        except empty:
            return batch, False
        if nxt is None:
            return batch, True
        batch.append(nxt)


def group_by_thread(batch: Sequence[Submission]) -> list[list[Submission]]:
    """Split a sender's batch into per-thread groups, each oldest first."""
    groups: dict[str, list[Submission]] = {}
    for sub in batch:
        groups.setdefault(sub.thread_id, []).append(sub)
    return list(groups.values())


def next_batch(
    first: Submission | None,
    get_nowait: Callable[[], Submission | None],
    empty: type[Exception],
    ledger: Ledger,
) -> tuple[Iterator[tuple[Request, list[Submission]]], bool]:
    """What a sender sends next, from the item it waited for and those queued behind it.

    Returns:
        The requests, each with the submissions it carries, and True once the
        sender met the stop marker (``None``) and should end after sending them.
        The requests are built lazily, one thread's group at a time, so a group
        skips what was cancelled, and counts its delay, as of when it is sent.
    """
    if first is None:
        return iter(()), True
    batch, stop = _take_batch(first, get_nowait, empty)
    return (pair for group in group_by_thread(batch) for pair in ledger.requests(group)), stop


# ------------------------------------------------------------ interpreter exit
# Nothing handed over is dropped silently: live executors register here, and one
# exit hook asks each to finish what it can within its ``exit_timeout`` (the sync
# executor's sender threads go on sending; the async one's event loop is gone by
# then, so it sends over a sync client) and to name, in a warning, what is unsent.


class _AtExit(Protocol):
    def _at_exit(self) -> None: ...


_LIVE: weakref.WeakSet[_AtExit] = weakref.WeakSet()


def track_at_exit(executor: _AtExit) -> None:
    """Call ``executor._at_exit()`` at interpreter exit, unless forgotten first."""
    _LIVE.add(executor)


def forget_at_exit(executor: _AtExit) -> None:
    """The executor was shut down: nothing left to do for it at exit."""
    _LIVE.discard(executor)


@atexit.register
def _drain_all() -> None:
    for executor in list(_LIVE):
        executor._at_exit()


def _warn_lost_at_exit(url: str, futures: Sequence[SubmissionFuture]) -> None:
    """Name, in a warning, the Futures unsent at exit that the server still does not hold."""
    lost = [f for f in futures if f.stage not in (Stage.ACCEPTED, Stage.PROCESSED)]
    if lost:
        names = ", ".join(f"{f.submission_id} (thread {f.thread_id})" for f in lost)
        logger.warning(
            "memory-reflect: %d submission(s) were NOT accepted by %s before exit and are lost: %s",
            len(lost),
            url,
            names,
        )


# ------------------------------------------------------------------- the base


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

    Like httpx's ``BaseClient``: settings resolved once (argument > env >
    default, see :mod:`sdk_client._http`), the Ledger and the flows built over
    them, and ``submit()``, which only validates and hands over. Its constructor
    is the executors' one, written once: both take the same arguments, and
    ``TransportT`` is the httpx transport flavour of each. The methods that talk
    to the server are each executor's own one-line twins.

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

    def _at_exit(self) -> None:
        """At interpreter exit: give ``unsent`` ``exit_timeout`` to be accepted, name the rest."""
        unsent = self._ledger.unsent()
        if unsent:
            deadline = time.monotonic() + self._exit_timeout
            self._send_at_exit()
            for fut in unsent:
                fut._wait_accepted_stage(max(0.0, deadline - time.monotonic()))
        _warn_lost_at_exit(self.url, unsent)

    def _send_at_exit(self) -> None:
        """Make sure something still sends the unsent submissions (the sync senders do)."""


# --------------------------------------------------------------- the executor


class ReflectionExecutor(ShutdownOnExit, RemoteExecutor[httpx.BaseTransport]):
    """Submit conversations to a deployed memory-manager graph, debounced per thread.

    ``ReflectionExecutor(reflector, namespace, /, *, url=None, ...)``: the
    constructor's arguments are described on :meth:`__init__`, written once for
    both executors (:class:`RemoteExecutor`); ``transport`` here is a sync
    ``httpx.BaseTransport``. Its senders and watcher are daemon threads.
    """

    def _set_up(
        self,
        client: LangGraphClient | None,
        sync_client: SyncLangGraphClient | None,
        transport: httpx.BaseTransport | None,
        sender_threads: int,
    ) -> None:
        self._client = sync_client or self._http.sync_client(transport)
        self._aclient = client
        # Close only what we built; an injected client belongs to the caller.
        self._owned_http = [] if sync_client else [self._client.http.client]
        self._wake = threading.Event()
        self._queues = [queue.SimpleQueue[Submission | None]() for _ in range(sender_threads)]
        self._senders = [
            threading.Thread(
                target=self._send_loop, args=(q,), daemon=True, name=f"reflect-send-{i}"
            )
            for i, q in enumerate(self._queues)
        ]
        self._watcher = threading.Thread(target=self._watch_loop, daemon=True, name="reflect-watch")
        for t in [*self._senders, self._watcher]:
            t.start()
        track_at_exit(self)

    def _hand_over(self, sub: Submission) -> SubmissionFuture:
        fut = self._ledger.add(sub)
        self._queues[sender_for(sub.thread_id, len(self._queues))].put(sub)
        return fut

    # --------------------------------------------------------------- threads

    def _send_loop(self, q: queue.SimpleQueue[Submission | None]) -> None:
        stop = False
        while not stop:
            sends, stop = next_batch(q.get(), q.get_nowait, queue.Empty, self._ledger)
            for request, subs in sends:
                if run_sync(self._flows.send(request, subs), self._client):
                    self._wake.set()

    def _watch_loop(self) -> None:
        drained = False
        while not drained:
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            drained = run_sync(self._flows.watch(), self._client)
        for http in self._owned_http:
            http.close()

    # ------------------------------------------------------- the server's methods
    # Each runs its flow on this thread; AsyncReflectionExecutor's twin awaits it.

    def status(self, thread_id: Any) -> ThreadStatus:
        """What the server is doing for a thread: idle, pending (and when due) or running."""
        return run_sync(self._flows.status(thread_id), self._client)

    def cancel(self, thread_id: Any) -> int:
        """Cancel a thread's pending and running work: runs, inbox, and local Futures.

        Returns:
            How many of this executor's submissions were cancelled.
        """
        return run_sync(self._flows.cancel(thread_id), self._client)

    def retry(self, thread_id: Any) -> bool:
        """Restart the server's redelivery of a thread's waiting work (``memory-reflect retry``).

        Parked work, or work whose run failed, is run again now and the server's
        redelivery count starts over. Not :class:`RetryPolicy`, which retries HTTP calls.

        Returns:
            False if a run is already on its way (it will process the work).
        """
        return run_sync(self._flows.restart_redelivery(thread_id), self._client)

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
        return run_sync(self._flows.search(query, filter, limit, offset, namespace), self._client)

    async def asearch(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Async :meth:`search`, on the async client given as ``client``, else a short-lived one."""
        flow = self._flows.search(query, filter, limit, offset, namespace)
        async with self._async_api() as api:
            return await run_async(flow, api)

    def history(
        self,
        key: str | None = None,
        *,
        namespace: str | Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[MemoryChange]:
        """The memory changes in a namespace (default: this executor's), newest first.

        Every change a run made (created, updated, deleted), and every undo, with its
        value before and after and the submissions that caused it. ``key``: one
        memory's changes only. Kept ``MEMORY_HISTORY_DAYS`` (90) on the server.
        """
        return run_sync(self._flows.history(key, namespace, limit), self._client)

    def undo(self, change_id: str, *, namespace: str | Sequence[str] | None = None) -> MemoryChange:
        """Bring a memory back to its value before a change (a deleted one comes back).

        ``change_id`` is a :class:`MemoryChange`'s ``id`` from :meth:`history`. The
        undo is a change of its own (``restored``), so it can be undone too.

        Raises:
            HistoryNotFoundError: the history has no such change (or it has expired).
        """
        return run_sync(self._flows.undo(change_id, namespace), self._client)

    def consolidate(
        self, *, namespace: str | Sequence[str] | None = None, max_memories: int | None = None
    ) -> list[str]:
        """Consolidate a namespace (default: this executor's) on the server, and wait.

        One run merges near-duplicates and retires facts a newer one contradicts (the
        most recently updated stays) and keeps the namespace under ``max_memories``
        (default: the server's ``MEMORY_MAX_MEMORIES``; 0: no bound); every retired
        memory is in :meth:`history` and :meth:`undo` brings it back. Returns the
        retired memories' paths.

        Raises:
            ConsolidationError: it stopped, changing nothing (extraction pending, one
                running already, or it would retire too much; the message says which).
        """
        return run_sync(self._flows.consolidate(namespace, max_memories), self._client)

    @asynccontextmanager
    async def _async_api(self) -> AsyncIterator[LangGraphClient]:
        """The injected async client, or one for this call only.

        A client of our own is not kept: an httpx.AsyncClient is bound to the event
        loop it first ran on, and callers may use several (asyncio.run per call).
        """
        if self._aclient is not None:
            yield self._aclient
            return
        async with self._http.async_client() as api:
            yield api

    def wait_accepted(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is accepted by the server (or failed).

        The cheap wait before a caller exits (or a handler returns): after it,
        nothing accepted can be lost.

        Raises:
            NotAcceptedError: the first submission the server never accepted.
            AcceptTimeoutError: ``timeout`` passed first (a :class:`FlushTimeoutError`).
        """
        return run_sync(self._flows.wait_accepted(timeout))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        return run_sync(self._flows.flush(timeout))

    # ------------------------------------------------------------- lifecycle

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking submissions.

        Args:
            wait: Block until every handed-over submission is sent (accepted or
                failed). Processing is not waited for: use :meth:`flush` for that.
            cancel_futures: Drop submissions not sent yet; their Futures raise
                :class:`SubmissionCancelledError`.
        """
        if not self._ledger.close(cancel_futures=cancel_futures):
            return
        for q in self._queues:
            q.put(None)
        if wait:
            for t in self._senders:
                t.join()
        self._wake.set()
        if wait and not self._ledger.pending():
            self._watcher.join(timeout=self._poll_interval * 4)
        forget_at_exit(self)
