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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client import _exit
from sdk_client._exit import ShutdownOnExit
from sdk_client._http import DEFAULT_URL
from sdk_client._remote import RemoteMethods, async_twin
from sdk_client._sansio import Flow, run_async, run_sync
from sdk_client._senders import next_batch, sender_for
from sdk_client._submission import Submission
from sdk_client.types import SubmissionFuture

__all__ = ["DEFAULT_URL", "ReflectionExecutor"]

T = TypeVar("T")


class ReflectionExecutor(ShutdownOnExit, RemoteMethods[httpx.BaseTransport]):
    """Submit conversations to a deployed memory-manager graph, debounced per thread.

    ``ReflectionExecutor(reflector, namespace, /, *, url=None, ...)``: the
    constructor's arguments are described on :meth:`__init__`, written once for
    both executors (:class:`~sdk_client._remote.RemoteExecutor`); ``transport``
    here is a sync ``httpx.BaseTransport``. Its senders and watcher are
    daemon threads.
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
