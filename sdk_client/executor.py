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
:mod:`sdk_client._flows`, shared with :class:`~sdk_client.AsyncReflectionExecutor`;
this module only runs them (:func:`~sdk_client._sansio.run_sync`) on its
sender threads and its watcher thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client import _exit
from sdk_client._exit import ShutdownOnExit
from sdk_client._http import DEFAULT_URL
from sdk_client._remote import RemoteMethods, async_twin
from sdk_client._retry import RetryPolicy
from sdk_client._sansio import Flow, run_async, run_sync
from sdk_client._senders import next_batch, sender_for
from sdk_client._submission import NOT_GIVEN, Submission
from sdk_client.types import SubmissionFuture

__all__ = ["DEFAULT_URL", "ReflectionExecutor"]

T = TypeVar("T")


class ReflectionExecutor(ShutdownOnExit, RemoteMethods):
    """Submit conversations to a deployed memory-manager graph, debounced per thread.

    Args:
        reflector: The graph id (or assistant id) on the server, e.g. ``"memory_manager"``.
        namespace: Memory namespace, a string or tuple of labels; ``{name}``
            placeholders are filled from ``config["configurable"]`` at submit time.
        url: Server URL. Default: ``$LANGGRAPH_API_URL``, else ``http://127.0.0.1:2024``.
        client: An async ``langgraph_sdk`` client for the async methods (default: a
            short-lived one per call, so any event loop works).
        sync_client: A sync ``langgraph_sdk`` client to use instead of building one.
        api_key: Sent as ``x-api-key``. Not given: ``$LANGGRAPH_API_KEY``, else
            ``$LANGSMITH_API_KEY``, else ``$LANGCHAIN_API_KEY``, as langgraph-sdk does;
            ``None``: send none.
        timeout: Per-request HTTP timeout (default: 5 s connect, 30 s read/write).
        transport: An httpx transport for the sync client (e.g. ``httpx.MockTransport``
            in tests).
        retry: How to retry failed HTTP calls (default :class:`RetryPolicy()`).
        poll_interval: Seconds between checks for processed submissions.
        sender_threads: Background senders (default 8); one thread always uses the same one,
            so its submissions reach the server in order.
        exit_timeout: At interpreter exit, how long to wait for handed-over
            submissions to be accepted before warning about the rest.
    """

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
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 0.5,
        sender_threads: int = 8,
        exit_timeout: float = 10.0,
    ) -> None:
        self._configure(reflector, namespace, url, api_key, timeout, retry, poll_interval)
        self._client = sync_client or self._http.sync_client(transport)
        self._aclient = client
        # Close only what we built; an injected client belongs to the caller.
        self._owned_http = [] if sync_client else [self._client.http.client]
        self._exit_timeout = exit_timeout
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
        _exit.track(self)

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

    # --------------------------------------------------------------- drivers

    def _drive_sync(self, flow: Flow[T], with_client: bool) -> T:
        return run_sync(flow, self._client if with_client else None)

    async def _drive_async(self, flow: Flow[T], method: str | None) -> T:
        # Only asearch() comes here: the async twin of search().
        async with self._async_api() as api:
            return await run_async(flow, api)

    # Async search(), on the async client given as ``client``, else on a short-lived one.
    asearch = async_twin(RemoteMethods.search)

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
        _exit.forget(self)

    def _wait_at_exit(self, unsent: list[SubmissionFuture]) -> None:
        """Give the sender threads up to ``exit_timeout`` to have ``unsent`` accepted."""
        deadline = time.monotonic() + self._exit_timeout
        for fut in unsent:
            fut._wait_accepted_stage(max(0.0, deadline - time.monotonic()))
