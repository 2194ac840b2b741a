"""``AsyncReflectionExecutor``: :class:`~sdk_client.ReflectionExecutor` for asyncio code.

Same methods, parameters and defaults as the sync executor (a parity test keeps
them so); those that talk to the server are coroutines. The bookkeeping is the
same :class:`~sdk_client._base.Ledger`; only the I/O differs: sender and
watcher are tasks on the caller's event loop instead of threads::

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
import atexit
import logging
import time
import weakref
from collections.abc import Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run

from sdk_client import _retry
from sdk_client._base import (
    NOT_GIVEN,
    Ledger,
    Request,
    RunPlan,
    Submission,
    build_submission,
    flush_timeout,
    group_by_thread,
    inbox_count,
    missing,
    namespace_or_default,
    not_found,
    sender_for,
    take_batch,
    thread_status,
    warn_lost_at_exit,
)
from sdk_client.contract import (
    inbox_namespace,
    receipts_namespace,
    validate_namespace,
    validate_thread_id,
)
from sdk_client.executor import (
    _FAILED_RUN,
    _default_url,
    _headers,
    _http_timeout,
    _validate_reflector,
    _with_tuple_namespace,
)
from sdk_client.types import SubmissionFuture, ThreadStatus

__all__ = ["AsyncReflectionExecutor"]

logger = logging.getLogger("sdk_client")


class AsyncReflectionExecutor:
    """Submit conversations to a deployed memory-manager graph from async code.

    Args:
        reflector: The graph id (or assistant id) on the server, e.g. ``"memory_manager"``.
        namespace: Memory namespace, a string or tuple of labels; ``{name}``
            placeholders are filled from ``config["configurable"]`` at submit time.
        url: Server URL. Default: ``$LANGGRAPH_API_URL``, else ``http://127.0.0.1:2024``.
        client: An async ``langgraph_sdk`` client to use instead of building one.
        api_key: Sent as ``x-api-key``. Not given: ``$LANGGRAPH_API_KEY``, else
            ``$LANGSMITH_API_KEY``, else ``$LANGCHAIN_API_KEY``; ``None``: send none.
        timeout: Per-request HTTP timeout (default: 5 s connect, 30 s read/write).
        transport: An async httpx transport (e.g. ``httpx.MockTransport`` in tests).
        retry: How to retry failed HTTP calls (default :class:`RetryPolicy()`).
        poll_interval: Seconds between checks for processed submissions.
        sender_threads: Concurrent sender tasks; one thread always uses the same
            one, so its submissions reach the server in order.
    """

    def __init__(
        self,
        reflector: str,
        namespace: str | Sequence[str],
        /,
        *,
        url: str | None = None,
        client: LangGraphClient | None = None,
        api_key: str | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: _retry.RetryPolicy | None = None,
        poll_interval: float = 0.5,
        sender_threads: int = 4,
    ) -> None:
        self.reflector = _validate_reflector(reflector)
        self.namespace = validate_namespace(namespace)
        self.url = _default_url(url)
        self._headers = _headers(api_key)
        # Keyed servers: conversation keys map to threads through the key (contract).
        self._api_key = self._headers.get("x-api-key")
        self._timeout = _http_timeout(timeout)
        self._transport = transport
        self._client = client
        self._owns_client = client is None
        self._retry = retry or _retry.RetryPolicy()
        self._poll_interval = poll_interval
        self._sender_count = sender_threads
        self._ledger = Ledger()
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
            # No transport-level connect retries: our RetryPolicy decides (see executor.py).
            http = httpx.AsyncClient(
                base_url=self.url,
                headers=self._headers,
                timeout=self._timeout,
                transport=self._transport or httpx.AsyncHTTPTransport(retries=0),
            )
            self._client = LangGraphClient(http)
        return self._client

    def _start(self) -> None:
        if self._watcher is not None:
            return
        self._api("submit")
        self._queues = [asyncio.Queue() for _ in range(self._sender_count)]
        self._senders = [asyncio.create_task(self._send_loop(q)) for q in self._queues]
        self._watcher = asyncio.create_task(self._watch_loop())
        _LIVE.add(self)

    # ------------------------------------------------------------------ submit

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

        Not a coroutine: it only validates and queues, like the sync executor's.
        Call it from the executor's event loop.

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
            A :class:`SubmissionFuture`: ``await fut`` for the result,
            ``await fut.wait_accepted_async()`` for acceptance.

        Raises:
            InvalidPayloadError: the payload, thread or namespace is malformed (before sending).
            ExecutorShutdownError: the executor was shut down.
            RuntimeError: no running event loop, or another loop than the executor's.
        """
        sub = build_submission(
            payload,
            self.namespace,
            config=config,
            after_seconds=after_seconds,
            thread_id=thread_id,
            api_key=self._api_key,
        )
        self._bind("submit")
        fut = self._ledger.add(sub)
        self._start()
        self._queues[sender_for(sub.thread_id, len(self._queues))].put_nowait(sub)
        return fut

    # ------------------------------------------------------------------ sender

    async def _send_loop(self, q: asyncio.Queue[Submission | None]) -> None:
        while True:
            first = await q.get()
            if first is None:
                return
            batch, stop = take_batch(first, q.get_nowait, asyncio.QueueEmpty)
            for group in group_by_thread(batch):
                for request, subs in self._ledger.requests(group):
                    await self._send(request, subs)
            if stop:
                return

    async def _send(self, req: Request, subs: list[Submission]) -> None:
        api = self._api("submit")
        try:
            await _retry.acall(
                self._retry,
                lambda: api.store.put_item(
                    inbox_namespace(req.thread_id),
                    req.inbox_key,
                    dict(req.inbox_entry),
                    index=False,
                ),
            )
        except Exception as err:
            self._ledger.not_accepted(subs, err, "writing the inbox", self.url)
            return
        try:
            plan = await self._plan_run(api, req.thread_id)
            sent = time.time()
            run = await _retry.acall(
                self._retry,
                # The server takes fractional seconds (the seed uses 0.5); the SDK hints int.
                lambda: api.runs.create(  # type: ignore[call-overload]
                    req.thread_id,
                    self.reflector,
                    input=req.run_input,
                    config=req.run_config,
                    multitask_strategy=plan.strategy,
                    after_seconds=req.after_seconds,
                    if_not_exists="create",
                ),
            )
        except Exception as err:
            # As in the sync executor: without a run, take the entry back.
            try:
                await api.store.delete_item(inbox_namespace(req.thread_id), req.inbox_key)
            except Exception:
                logger.warning(
                    "could not remove inbox entry %s after a failed run create", req.inbox_key
                )
            self._ledger.not_accepted(subs, err, "creating the run", self.url)
            return
        self._ledger.accepted(
            req.thread_id, str(run["run_id"]), subs, due_at=sent + req.after_seconds, plan=plan
        )
        self._wake.set()

    async def _plan_run(self, api: LangGraphClient, thread_id: str) -> RunPlan:
        """As the sync executor: supersede our pending run, never one that is running."""
        statuses = {
            rid: await _retry.acall(self._retry, partial(self._run_status, api, thread_id, rid))
            for rid in self._ledger.may_be_running(thread_id, time.time())
        }
        plan = self._ledger.plan_run(thread_id, statuses)
        for rid in plan.cancel:
            try:
                await api.runs.cancel(thread_id, rid, action="rollback")
            except Exception as err:  # started or finished meanwhile: it processes the inbox
                logger.debug("could not cancel superseded run %s: %s", rid, err)
        return plan

    @staticmethod
    async def _run_status(api: LangGraphClient, thread_id: str, run_id: str) -> str | None:
        """A run's status; None if the server no longer has it."""
        try:
            return str((await api.runs.get(thread_id, run_id))["status"])
        except Exception as err:
            if not_found(err):
                return None
            raise

    # ----------------------------------------------------------------- watcher

    async def _watch_loop(self) -> None:
        while True:
            await self._nap()
            self._wake.clear()
            for tid in self._ledger.due_threads(time.time()):
                try:
                    await self._check_thread(tid)
                except Exception as err:  # the server may be restarting: try again next poll
                    logger.debug("checking thread %s failed: %s", tid, err)
            if self._ledger.drained():
                await self._close_client()
                return

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

    async def _check_thread(self, thread_id: str) -> None:
        api = self._api("flush")
        receipts = await api.store.search_items(receipts_namespace(thread_id), limit=1000)
        for key in self._ledger.receipts(thread_id, receipts["items"]):
            try:
                await api.store.delete_item(receipts_namespace(thread_id), key)
            except Exception:
                logger.debug("could not delete receipt %s", key)
        run_id, left = self._ledger.unprocessed(thread_id)
        if left and run_id:
            await self._check_run(thread_id, run_id, left)

    async def _check_run(self, thread_id: str, run_id: str, left: list[str]) -> None:
        api = self._api("flush")
        status = await self._run_status(api, thread_id, run_id)  # None: superseded by another
        if status is None or status == "interrupted":
            latest = await self._latest_run(thread_id)
            if latest is not None and latest != run_id:
                self._ledger.follow(thread_id, latest)
                return
        if status is None or status == "success":
            # As in the sync executor: never report them processed without a receipt.
            inbox = await api.store.search_items(inbox_namespace(thread_id), limit=1000)
            receipts = await api.store.search_items(receipts_namespace(thread_id), limit=1000)
            self._ledger.lost(thread_id, run_id, missing(left, inbox["items"], receipts["items"]))
        elif status in _FAILED_RUN:
            self._ledger.run_failed(thread_id, run_id, status, left)

    async def _latest_run(self, thread_id: str) -> str | None:
        """The thread's newest run, or None if it has none (or the thread is gone)."""
        try:
            latest = await self._api("flush").runs.list(thread_id, limit=1)
        except Exception as err:
            if not not_found(err):
                raise
            return None
        return str(latest[0]["run_id"]) if latest else None

    # ------------------------------------------------------------ inspection

    async def status(self, thread_id: Any) -> ThreadStatus:
        """What the server is doing for a thread: idle, pending (and when due) or running."""
        tid = validate_thread_id(thread_id, api_key=self._api_key)
        api = self._api("status")
        runs = await self._inflight(api, tid)
        inbox = (await api.store.search_items(inbox_namespace(tid), limit=1000))["items"]
        return thread_status(tid, runs, inbox_count(inbox))

    @staticmethod
    async def _inflight(api: LangGraphClient, thread_id: str) -> list[Run]:
        """As the sync executor: running, then pending runs; none if there is no such thread."""
        try:
            return [
                *await api.runs.list(thread_id, status="running", limit=100),
                *await api.runs.list(thread_id, status="pending", limit=100),
            ]
        except Exception as err:
            if not not_found(err):
                raise
            return []

    async def cancel(self, thread_id: Any) -> int:
        """Cancel a thread's pending and running work: runs, inbox, and local Futures.

        Returns:
            How many of this executor's submissions were cancelled.
        """
        tid = validate_thread_id(thread_id, api_key=self._api_key)
        api = self._api("cancel")
        for run in await self._inflight(api, tid):
            try:
                await api.runs.cancel(tid, str(run["run_id"]), action="rollback")
            except Exception as err:  # finished or deleted meanwhile
                logger.debug("cancel of run %s: %s", run["run_id"], err)
        inbox = await api.store.search_items(inbox_namespace(tid), limit=1000)
        for item in inbox["items"]:
            await api.store.delete_item(inbox_namespace(tid), item["key"])
        return self._ledger.cancel_thread(tid, thread_id)

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
        ns = namespace_or_default(namespace, self.namespace)
        res = await self._api("search").store.search_items(
            ns, query=query, filter=filter, limit=limit, offset=offset
        )
        return [_with_tuple_namespace(i) for i in res["items"]]

    # ---------------------------------------------------------------- waiting

    async def wait_accepted(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is accepted by the server (or failed).

        The cheap wait before a handler returns: after it, nothing accepted can
        be lost. Raises the first :class:`NotAcceptedError`, if any.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for fut in self._ledger.pending():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await fut.wait_accepted_async(left)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for fut in self._ledger.pending():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait([asyncio.wrap_future(fut)], timeout=left)
            if not done:
                raise flush_timeout(fut, timeout)

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
        _LIVE.discard(self)
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

    async def __aenter__(self) -> AsyncReflectionExecutor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown(wait=True)


_LIVE: weakref.WeakSet[AsyncReflectionExecutor] = weakref.WeakSet()


@atexit.register
def _warn_unsent() -> None:
    # The event loop is gone by now, so nothing more can be sent or waited for
    # (the sync executor waits ``exit_timeout``): say which submissions were lost.
    for executor in list(_LIVE):
        warn_lost_at_exit(logger, executor.url, executor._ledger.unsent())
