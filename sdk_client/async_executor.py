"""``AsyncReflectionExecutor``: :class:`~sdk_client.ReflectionExecutor` for asyncio code.

Same methods, parameters and defaults as the sync executor (a parity test keeps
them so); those that talk to the server are coroutines. The decisions are the
same flows (:mod:`sdk_client._flows`) over the same Ledger, driven with
``await`` (:func:`~sdk_client._sansio.run_async`); only the plumbing differs:
sender and watcher are tasks on the caller's event loop instead of threads::

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
from types import TracebackType
from typing import TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from sdk_client import _exit
from sdk_client._remote import RemoteExecutor, RemoteMethods, async_twin
from sdk_client._sansio import Flow, run_async, run_sync
from sdk_client._senders import group_by_thread, next_batch, sender_for
from sdk_client._submission import Submission
from sdk_client.types import SubmissionFuture

__all__ = ["AsyncReflectionExecutor"]

T = TypeVar("T")


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
        _exit.track(self)

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

    # RemoteMethods', each awaited on this executor's client (see async_twin).
    status = async_twin(RemoteMethods.status)
    cancel = async_twin(RemoteMethods.cancel)
    retry = async_twin(RemoteMethods.retry)
    search = async_twin(RemoteMethods.search)
    wait_accepted = async_twin(RemoteMethods.wait_accepted)
    flush = async_twin(RemoteMethods.flush)

    def _drive_sync(self, flow: Flow[T], with_client: bool) -> T:
        raise TypeError("AsyncReflectionExecutor: await its methods; it has no sync driver")

    async def _drive_async(self, flow: Flow[T], method: str | None) -> T:
        return await run_async(flow, None if method is None else self._api(method))

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
        _exit.forget(self)
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
