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
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from types import TracebackType
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
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
from sdk_client.errors import InvalidPayloadTypeError
from sdk_client.types import SubmissionFuture, ThreadStatus

__all__ = ["DEFAULT_URL", "ReflectionExecutor"]

logger = logging.getLogger("sdk_client")

DEFAULT_URL = "http://127.0.0.1:2024"
"""Where ``langgraph dev`` listens by default; used when neither ``url`` nor env says."""

_FAILED_RUN = {"error", "timeout", "interrupted"}
_LIVE: weakref.WeakSet[ReflectionExecutor] = weakref.WeakSet()


_API_KEY_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
_DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)


def _default_url(url: str | None) -> str:
    return url or os.environ.get("LANGGRAPH_API_URL") or DEFAULT_URL


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


def _sync_client(
    url: str, headers: dict[str, str], timeout: httpx.Timeout, transport: httpx.BaseTransport | None
) -> SyncLangGraphClient:
    # Built here rather than with get_sync_client(): its transport retries connects
    # five times with its own backoff, under ours, which makes "server down" take
    # ~15 s per try and hides our RetryPolicy.
    http = httpx.Client(
        base_url=url,
        headers=headers,
        timeout=timeout,
        transport=transport or httpx.HTTPTransport(retries=0),
    )
    return SyncLangGraphClient(http)


class ReflectionExecutor:
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
        sender_threads: Background senders; one thread always uses the same one,
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
        retry: _retry.RetryPolicy | None = None,
        poll_interval: float = 0.5,
        sender_threads: int = 4,
        exit_timeout: float = 10.0,
    ) -> None:
        self.reflector = _validate_reflector(reflector)
        self.namespace = validate_namespace(namespace)
        self.url = _default_url(url)
        http_timeout = _http_timeout(timeout)
        self._headers = _headers(api_key)
        # Keyed servers: conversation keys map to threads through the key (contract).
        self._api_key = self._headers.get("x-api-key")
        self._timeout = http_timeout
        self._client = sync_client or _sync_client(self.url, self._headers, http_timeout, transport)
        self._aclient = client
        # Close only what we built; an injected client belongs to the caller.
        self._owned_http = [] if sync_client else [self._client.http.client]
        self._retry = retry or _retry.RetryPolicy()
        self._poll_interval = poll_interval
        self._exit_timeout = exit_timeout
        self._ledger = Ledger()
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

        Returns at once; the HTTP happens on a background sender. A newer
        submission on the same thread within ``after_seconds`` supersedes this
        one's run, and the run that executes processes both.

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
            A :class:`SubmissionFuture`; ``result()`` is a :class:`SubmissionResult`.

        Raises:
            InvalidPayloadError: the payload, thread or namespace is malformed (before sending).
            ExecutorShutdownError: the executor was shut down.
        """
        sub = build_submission(
            payload,
            self.namespace,
            config=config,
            after_seconds=after_seconds,
            thread_id=thread_id,
            api_key=self._api_key,
        )
        fut = self._ledger.add(sub)
        self._queues[sender_for(sub.thread_id, len(self._queues))].put(sub)
        return fut

    # ------------------------------------------------------------------ sender

    def _send_loop(self, q: queue.SimpleQueue[Submission | None]) -> None:
        while True:
            first = q.get()
            if first is None:
                return
            batch, stop = take_batch(first, q.get_nowait, queue.Empty)
            for group in group_by_thread(batch):
                for request, subs in self._ledger.requests(group):
                    self._send(request, subs)
            if stop:
                return

    def _send(self, req: Request, subs: list[Submission]) -> None:
        try:
            _retry.call(
                self._retry,
                lambda: self._client.store.put_item(
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
            plan = self._plan_run(req.thread_id)
            sent = time.time()
            run = _retry.call(
                self._retry,
                # The server takes fractional seconds (the seed uses 0.5); the SDK hints int.
                lambda: self._client.runs.create(  # type: ignore[call-overload]
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
            # Without a run nothing would process the entry soon: take it back so that
            # "not accepted" means "not held". Message ids keep a resubmission from
            # duplicating anything if this cleanup itself fails.
            try:
                self._client.store.delete_item(inbox_namespace(req.thread_id), req.inbox_key)
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

    def _plan_run(self, thread_id: str) -> RunPlan:
        """Supersede our pending run, but never one that is running (see :class:`RunPlan`)."""
        statuses = {
            rid: _retry.call(self._retry, partial(self._run_status, thread_id, rid))
            for rid in self._ledger.may_be_running(thread_id, time.time())
        }
        plan = self._ledger.plan_run(thread_id, statuses)
        for rid in plan.cancel:
            try:
                self._client.runs.cancel(thread_id, rid, action="rollback")
            except Exception as err:  # started or finished meanwhile: it processes the inbox
                logger.debug("could not cancel superseded run %s: %s", rid, err)
        return plan

    def _run_status(self, thread_id: str, run_id: str) -> str | None:
        """A run's status; None if the server no longer has it."""
        try:
            return str(self._client.runs.get(thread_id, run_id)["status"])
        except Exception as err:
            if not_found(err):
                return None
            raise

    # ----------------------------------------------------------------- watcher

    def _watch_loop(self) -> None:
        while True:
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            for tid in self._ledger.due_threads(time.time()):
                try:
                    self._check_thread(tid)
                except Exception as err:  # the server may be restarting: try again next poll
                    logger.debug("checking thread %s failed: %s", tid, err)
            if self._ledger.drained():
                for http in self._owned_http:
                    http.close()
                return

    def _check_thread(self, thread_id: str) -> None:
        receipts = self._client.store.search_items(receipts_namespace(thread_id), limit=1000)
        for key in self._ledger.receipts(thread_id, receipts["items"]):
            try:
                self._client.store.delete_item(receipts_namespace(thread_id), key)
            except Exception:
                logger.debug("could not delete receipt %s", key)
        run_id, left = self._ledger.unprocessed(thread_id)
        if left and run_id:
            self._check_run(thread_id, run_id, left)

    def _check_run(self, thread_id: str, run_id: str, left: list[str]) -> None:
        status = self._run_status(thread_id, run_id)  # None: deleted, superseded by another
        if status is None or status == "interrupted":
            # Another client (or langmem's executor) superseded our run; the newer run
            # reads the same inbox, so its outcome is ours: follow it.
            latest = self._latest_run(thread_id)
            if latest is not None and latest != run_id:
                self._ledger.follow(thread_id, latest)
                return
        if status is None or status == "success":
            # Gone with nothing newer, or finished without a receipt for these: either
            # they still wait in the inbox, or the server lost them. Never report them
            # processed.
            inbox = self._client.store.search_items(inbox_namespace(thread_id), limit=1000)
            receipts = self._client.store.search_items(receipts_namespace(thread_id), limit=1000)
            self._ledger.lost(thread_id, run_id, missing(left, inbox["items"], receipts["items"]))
        elif status in _FAILED_RUN:
            self._ledger.run_failed(thread_id, run_id, status, left)

    def _latest_run(self, thread_id: str) -> str | None:
        """The thread's newest run, or None if it has none (or the thread is gone)."""
        try:
            latest = self._client.runs.list(thread_id, limit=1)
        except Exception as err:
            if not not_found(err):
                raise
            return None
        return str(latest[0]["run_id"]) if latest else None

    # ------------------------------------------------------------ inspection

    def status(self, thread_id: Any) -> ThreadStatus:
        """What the server is doing for a thread: idle, pending (and when due) or running."""
        tid = validate_thread_id(thread_id, api_key=self._api_key)
        runs = self._inflight(tid)
        inbox = self._client.store.search_items(inbox_namespace(tid), limit=1000)["items"]
        return thread_status(tid, runs, inbox_count(inbox))

    def _inflight(self, thread_id: str) -> list[Run]:
        """The thread's running, then pending runs; none if the server has no such thread."""
        try:
            return [
                *self._client.runs.list(thread_id, status="running", limit=100),
                *self._client.runs.list(thread_id, status="pending", limit=100),
            ]
        except Exception as err:
            if not not_found(err):
                raise
            return []

    def cancel(self, thread_id: Any) -> int:
        """Cancel a thread's pending and running work: runs, inbox, and local Futures.

        Returns:
            How many of this executor's submissions were cancelled.
        """
        tid = validate_thread_id(thread_id, api_key=self._api_key)
        for run in self._inflight(tid):
            try:
                self._client.runs.cancel(tid, str(run["run_id"]), action="rollback")
            except Exception as err:  # finished or deleted meanwhile
                logger.debug("cancel of run %s: %s", run["run_id"], err)
        for item in self._client.store.search_items(inbox_namespace(tid), limit=1000)["items"]:
            self._client.store.delete_item(inbox_namespace(tid), item["key"])
        return self._ledger.cancel_thread(tid, thread_id)

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
        ns = namespace_or_default(namespace, self.namespace)
        res = self._client.store.search_items(
            ns, query=query, filter=filter, limit=limit, offset=offset
        )
        return [_with_tuple_namespace(i) for i in res["items"]]

    async def asearch(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Async :meth:`search`."""
        ns = namespace_or_default(namespace, self.namespace)
        async with self._async_client() as aclient:
            res = await aclient.store.search_items(
                ns, query=query, filter=filter, limit=limit, offset=offset
            )
        return [_with_tuple_namespace(i) for i in res["items"]]

    @asynccontextmanager
    async def _async_client(self) -> AsyncIterator[LangGraphClient]:
        """The injected async client, or one for this call only.

        A client of our own is not kept: an httpx.AsyncClient is bound to the event
        loop it first ran on, and callers may use several (asyncio.run per call).
        """
        if self._aclient is not None:
            yield self._aclient
            return
        async with httpx.AsyncClient(
            base_url=self.url, headers=self._headers, timeout=self._timeout
        ) as http:
            yield LangGraphClient(http)

    # ---------------------------------------------------------------- waiting

    def wait_accepted(self, timeout: float | None = None) -> None:
        """Block until every submission so far is accepted by the server (or failed).

        The cheap wait for a caller about to exit: after it, nothing accepted
        can be lost. Raises the first :class:`NotAcceptedError`, if any.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for fut in self._ledger.pending():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            fut.wait_accepted(left)

    def flush(self, timeout: float | None = None) -> None:
        """Block until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for fut in self._ledger.pending():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                fut.exception(left)
            except TimeoutError:
                raise flush_timeout(fut, timeout) from None

    # -------------------------------------------------------------- lifecycle

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
        _LIVE.discard(self)

    def _at_exit(self) -> None:
        unsent = self._ledger.unsent()
        if unsent:
            deadline = time.monotonic() + self._exit_timeout
            for fut in unsent:
                fut._accepted.wait(max(0.0, deadline - time.monotonic()))
        warn_lost_at_exit(logger, self.url, unsent)

    def __enter__(self) -> ReflectionExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(wait=True)


def _with_tuple_namespace(item: Mapping[str, Any]) -> dict[str, Any]:
    return {**item, "namespace": tuple(item["namespace"])}


@atexit.register
def _drain_all() -> None:
    for executor in list(_LIVE):
        executor._at_exit()
