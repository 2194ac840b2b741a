"""``AsyncReflectionExecutor``: :class:`~sdk_client.ReflectionExecutor` for asyncio code.

Same methods, parameters and defaults as the sync executor (a parity test keeps
them so); those that talk to the server are coroutines. The decisions are the
same flows (:mod:`sdk_client._flows`) over the same Ledger, driven with
``await`` (:func:`~sdk_client._flows.run_async`), each method a one-line twin
of the sync executor's; only the plumbing differs: sender and watcher are
tasks on the caller's event loop instead of threads::

    async with AsyncReflectionExecutor("memory_manager", ("memories", "{user_id}")) as ex:
        fut = ex.submit({"messages": [...]}, thread_id="chat-42", after_seconds=30,
                        config={"configurable": {"user_id": "alice"}})
        await fut.wait_accepted_async()   # the server holds it now
        result = await fut                # ... or wait until processed

An executor belongs to the event loop it first submits on (or searches on):
its HTTP client and tasks live there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client._flows import run_async, run_sync
from sdk_client._submission import Submission
from sdk_client.executor import (
    RemoteExecutor,
    forget_at_exit,
    group_by_thread,
    next_batch,
    sender_for,
    track_at_exit,
)
from sdk_client.types import MemoryChange, SubmissionFuture, ThreadStatus

__all__ = ["AsyncReflectionExecutor"]


class AsyncReflectionExecutor(RemoteExecutor[httpx.AsyncBaseTransport]):
    """Submit conversations to a deployed memory-manager graph from async code.

    It takes the arguments of :class:`~sdk_client.ReflectionExecutor` (one
    constructor, written once), except that ``transport`` is an async httpx
    transport (e.g. ``httpx.MockTransport`` in tests) and ``sender_threads``
    counts sender tasks. ``client`` is the async ``langgraph_sdk`` client all
    its methods use; ``sync_client`` serves only at interpreter exit, when the
    event loop its senders ran on is gone: it then sends, within
    ``exit_timeout``, what was handed over but never sent.
    """

    def _set_up(
        self,
        client: LangGraphClient | None,
        sync_client: SyncLangGraphClient | None,
        transport: httpx.AsyncBaseTransport | None,
        sender_threads: int,
    ) -> None:
        self._transport = transport
        self._client = client
        self._owns_client = client is None
        self._exit_client = sync_client
        self._sender_count = sender_threads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: list[asyncio.Queue[Submission | None]] = []
        self._senders: list[asyncio.Task[None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ setup

    def _bind(self, method: str) -> None:
        """Tie the executor to the running loop (the first call decides which)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{method}(): AsyncReflectionExecutor needs a running event loop; "
                "in sync code use ReflectionExecutor"
            ) from None
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(
                f"{method}(): this AsyncReflectionExecutor belongs to another event loop; "
                "create one per loop"
            )

    def _api(self, method: str) -> LangGraphClient:
        self._bind(method)
        if self._client is None:
            self._client = self._http.async_client(self._transport)
        return self._client

    def _start(self) -> None:
        if self._watcher is not None:
            return
        self._api("submit")
        self._queues = [asyncio.Queue() for _ in range(self._sender_count)]
        self._senders = [asyncio.create_task(self._send_loop(q)) for q in self._queues]
        self._watcher = asyncio.create_task(self._watch_loop())
        track_at_exit(self)

    def _hand_over(self, sub: Submission) -> SubmissionFuture:
        self._bind("submit")
        fut = self._ledger.add(sub)
        self._start()
        self._queues[sender_for(sub.thread_id, len(self._queues))].put_nowait(sub)
        return fut

    # ------------------------------------------------------------------ tasks

    async def _send_loop(self, q: asyncio.Queue[Submission | None]) -> None:
        stop = False
        while not stop:
            sends, stop = next_batch(await q.get(), q.get_nowait, asyncio.QueueEmpty, self._ledger)
            for request, subs in sends:
                if await run_async(self._flows.send(request, subs), self._api("submit")):
                    self._wake.set()

    async def _watch_loop(self) -> None:
        drained = False
        while not drained:
            await self._nap()
            self._wake.clear()
            drained = await run_async(self._flows.watch(), self._api("flush"))
        await self._close_client()

    async def _nap(self) -> None:
        """Sleep until woken or ``poll_interval`` passes.

        Not ``asyncio.wait_for``: on Python 3.11 it can swallow the cancellation
        that closing the loop sends, and the loop then never finishes closing.
        """
        timer = asyncio.get_running_loop().call_later(self._poll_interval, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    # ------------------------------------------------------- the server's methods

    # Each awaits its flow on this executor's client; ReflectionExecutor's twin runs it.

    async def status(self, thread_id: Any) -> ThreadStatus:
        """What the server is doing for a thread: idle, pending (and when due) or running."""
        return await run_async(self._flows.status(thread_id), self._api("status"))

    async def cancel(self, thread_id: Any) -> int:
        """Cancel a thread's pending and running work: runs, inbox, and local Futures.

        Returns:
            How many of this executor's submissions were cancelled.
        """
        return await run_async(self._flows.cancel(thread_id), self._api("cancel"))

    async def retry(self, thread_id: Any) -> bool:
        """Restart redelivery: a thread's parked (or failed) work runs again now, count reset.

        As :meth:`ReflectionExecutor.retry` (``memory-reflect retry``); False if a
        run is already on its way (it will process the work).
        """
        return await run_async(self._flows.restart_redelivery(thread_id), self._api("retry"))

    async def search(
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
        return await run_async(flow, self._api("search"))

    async def history(
        self,
        key: str | None = None,
        *,
        namespace: str | Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[MemoryChange]:
        """The memory changes in a namespace (default: this executor's), newest first.

        As :meth:`ReflectionExecutor.history`: every change a run made, and every undo.
        """
        flow = self._flows.history(key, namespace, limit)
        return await run_async(flow, self._api("history"))

    async def undo(
        self, change_id: str, *, namespace: str | Sequence[str] | None = None
    ) -> MemoryChange:
        """Bring a memory back to its value before a change; the undo is recorded too.

        As :meth:`ReflectionExecutor.undo`.

        Raises:
            HistoryNotFoundError: the history has no such change (or it has expired).
        """
        return await run_async(self._flows.undo(change_id, namespace), self._api("undo"))

    async def consolidate(
        self, *, namespace: str | Sequence[str] | None = None, max_memories: int | None = None
    ) -> list[str]:
        """Consolidate a namespace on the server, and wait; the retired memories' paths.

        As :meth:`ReflectionExecutor.consolidate`.

        Raises:
            ConsolidationError: it stopped, changing nothing (the message says why).
        """
        flow = self._flows.consolidate(namespace, max_memories)
        return await run_async(flow, self._api("consolidate"))

    async def wait_accepted(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is accepted by the server (or failed).

        The cheap wait before the event loop ends (or a handler returns): after
        it, nothing accepted can be lost.

        Raises:
            NotAcceptedError: the first submission the server never accepted.
            AcceptTimeoutError: ``timeout`` passed first (a :class:`FlushTimeoutError`).
        """
        return await run_async(self._flows.wait_accepted(timeout))

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        return await run_async(self._flows.flush(timeout))

    # -------------------------------------------------------------- lifecycle

    async def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking submissions.

        Args:
            wait: Wait until every handed-over submission is sent (accepted or
                failed). Processing is not waited for: use :meth:`flush` for that;
                the watcher goes on resolving Futures while the loop runs.
            cancel_futures: Drop submissions not sent yet; their Futures raise
                :class:`SubmissionCancelledError`.
        """
        if not self._ledger.close(cancel_futures=cancel_futures):
            return
        forget_at_exit(self)
        if self._watcher is None:  # never submitted: nothing to stop
            await self._close_client()
            return
        for q in self._queues:
            q.put_nowait(None)
        if wait:
            await asyncio.gather(*self._senders)
        self._wake.set()
        if wait and not self._ledger.pending():
            await asyncio.wait([self._watcher], timeout=self._poll_interval * 4)

    async def _close_client(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------------- exit

    def _send_at_exit(self) -> None:
        """Send what the event loop left unsent, from a thread: the loop is gone at exit.

        The same flows as the sender tasks, driven with a sync client. A
        submission cut off mid-send is sent again whole: the inbox write and
        the rollback run are both safe to repeat.
        """
        if self._loop is not None and self._loop.is_running():
            return  # a loop in another thread still runs the senders
        subs = self._ledger.unsent_submissions()
        if subs:
            threading.Thread(
                target=self._send_now, args=(subs,), daemon=True, name="reflect-exit-send"
            ).start()

    def _send_now(self, subs: list[Submission]) -> None:
        client = self._exit_client or self._http.sync_client()
        try:
            for group in group_by_thread(subs):
                for request, batch in self._ledger.requests(group):
                    run_sync(self._flows.send(request, batch), client)
        finally:
            if client is not self._exit_client:  # ours: close it; an injected one is the caller's
                client.http.client.close()

    async def __aenter__(self) -> AsyncReflectionExecutor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown(wait=True)
