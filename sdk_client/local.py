"""``LocalReflectionExecutor``: the executor's semantics, in the caller's process.

For a langmem memory manager (or any LangChain ``Runnable``) run without a
server: submissions on a thread are debounced (the run waits until the thread
has been quiet for ``after_seconds``), and the run that executes gets the
messages of *every* submission it superseded, merged in order with duplicate
ids dropped. Every superseded Future resolves to that one run's result::

    manager = create_memory_store_manager("openai:gpt-4o-mini", namespace=("memories",))
    executor = LocalReflectionExecutor(manager, store=store)
    fut = executor.submit({"messages": [...]}, thread_id="chat-42", after_seconds=30)
    fut.result()   # what the manager returned for the merged conversation

Why not langmem's ``LocalReflectionExecutor``: it cancels the superseded task
instead of merging it, so superseded turns are never processed, and its
cancellation races with its worker (langmem#70), which then runs more than
the last payload. Here nothing is cancelled: a submission only appends to its
thread's pending batch and moves the due time, and the scheduler takes the
whole batch, under one lock, when it falls due.

It also takes what langmem's executor takes: a payload of any shape (one
without ``messages`` is passed as it is, the newest replacing the pending one)
and a reflector written for langmem, ``invoke(payload)`` with no config (it is
called so, with the config in LangGraph's context as langmem does).

Unlike the remote executor, pending work lives in this process's memory:
:meth:`~LocalReflectionExecutor.shutdown` (and interpreter exit) runs what is
pending at once rather than losing it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sdk_client._exit import ShutdownOnExit
from sdk_client._submission import NOT_GIVEN, ambient_config, resolve_thread_id
from sdk_client.contract import normalize_payload, validate_after_seconds
from sdk_client.errors import (
    ExecutorShutdownError,
    FlushTimeoutError,
    InvalidPayloadTypeError,
    SubmissionCancelledError,
)

__all__ = ["LocalFuture", "LocalReflectionExecutor"]

_LIVE: weakref.WeakSet[LocalReflectionExecutor] = weakref.WeakSet()

# Where LangGraph's get_store() finds the run's Runtime in a config's
# ``configurable`` (langgraph keeps the name private; tests/unit/sdk_client/
# test_local.py checks that get_store() finds the store we put there).
_RUNTIME_KEY = "__pregel_runtime"


class LocalFuture(Future[Any]):
    """A Future for one in-process submission; ``result()`` is what the runnable returned.

    Superseded submissions share the result of the run that processed them.
    ``await fut`` works in async code.
    """

    def __init__(self, submission_id: str, thread_id: str) -> None:
        super().__init__()
        self.submission_id = submission_id
        self.thread_id = thread_id

    def __await__(self) -> Generator[Any, None, Any]:
        """``await fut``: the runnable's result (or its error)."""
        return asyncio.wrap_future(self).__await__()


@dataclass
class _Pending:
    """One submission waiting in its thread's batch."""

    submission_id: str
    payload: Any
    messages: list[Any] | None
    """None: the payload carries no messages and is passed on as it is."""
    message_ids: list[str]
    config: dict[str, Any]
    future: LocalFuture


@dataclass
class _Thread:
    """A thread's pending batch and whether a run of it is executing."""

    due_at: float = 0.0
    pending: list[_Pending] = field(default_factory=list)
    running: bool = False


def merge(batch: list[_Pending]) -> tuple[Any, dict[str, Any]]:
    """The input and config for one run over a whole batch (oldest first).

    Messages keep their order; one already seen (same id: a full history sent
    again) is kept once. Other payload keys and the config come from the newest
    submission, as the run that supersedes the others would have used them. A
    newest payload without messages is the input as it is: it replaces the
    pending ones, as in langmem.
    """
    newest = batch[-1]
    if newest.messages is None:
        return newest.payload, newest.config
    seen: set[str] = set()
    messages: list[Any] = []
    for item in batch:
        for mid, message in zip(item.message_ids, item.messages or (), strict=True):
            if mid not in seen:
                seen.add(mid)
                messages.append(message)
    return {**newest.payload, "messages": messages}, newest.config


def _messages_of(payload: Any) -> tuple[list[Any] | None, list[str]]:
    """A payload's messages and their ids (validated); None if it carries none."""
    if not (isinstance(payload, Mapping) and "messages" in payload):
        return None, []
    ids = [m["id"] for m in normalize_payload(payload)]
    return list(payload["messages"]), ids


def _runtime_store(configurable: Mapping[str, Any]) -> Any:
    """The store of the LangGraph Runtime in a config, if it carries one."""
    try:
        from langgraph.runtime import Runtime
    except ImportError:
        return None
    runtime = configurable.get(_RUNTIME_KEY)
    return runtime.store if isinstance(runtime, Runtime) else None


def _with_store(configurable: dict[str, Any], store: Any) -> dict[str, Any]:
    """``configurable`` where ``get_store()`` finds ``store``, as langmem's executor does."""
    from langgraph.runtime import Runtime

    return {**configurable, _RUNTIME_KEY: Runtime(store=store)}


def _takes_config(invoke: Callable[..., Any]) -> bool:
    """Whether ``invoke`` takes a config as its second positional argument.

    A LangChain ``Runnable`` does (``invoke(input, config=None)``), and passing
    it there is what every Runnable reads. A reflector written for langmem may
    take the payload only (langmem calls ``invoke(payload)`` and puts the config
    in LangGraph's context instead); calling it with two would be a TypeError in
    the worker. Decided once, from the signature, when the executor is built.
    """
    try:
        params = list(inspect.signature(invoke).parameters.values())
    except (TypeError, ValueError):  # no signature to read: assume the Runnable shape
        return True
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in positional for p in params) >= 2


@contextlib.contextmanager
def _config_in_context(config: dict[str, Any]) -> Iterator[None]:
    """Make ``config`` what ``get_config()``/``get_store()`` return, for one call.

    How langmem hands its reflector the config (LangChain's context variable);
    without langchain-core nothing could read it, so nothing is set.
    """
    try:
        from langchain_core.runnables.config import var_child_runnable_config
    except ImportError:
        yield
        return
    token = var_child_runnable_config.set(config)  # type: ignore[arg-type]
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


class LocalReflectionExecutor(ShutdownOnExit):
    """Run a memory manager (any ``Runnable``) in this process, debounced per thread.

    Args:
        reflector: What processes a conversation: a langmem memory manager, any
            object with ``invoke(payload, config)``, or one written for langmem's
            executor, ``invoke(payload)`` (see :func:`_takes_config`).
        store: A LangGraph ``BaseStore`` made available to the runnable through
            ``get_store()`` (what langmem's store manager reads when built without one).
            Not given: the store of the LangGraph run that first submits, as langmem
            infers it, kept for later submissions. May be passed positionally, as
            langmem's ``LocalReflectionExecutor(reflector, store)``.
        max_workers: Threads running the runnable; runs on one thread never overlap.
        clock: Seconds, monotonic; the debounce is measured with it (inject a fake
            one to test timing without sleeping).
        poll_interval: Longest the scheduler sleeps before reading ``clock`` again.
    """

    def __init__(
        self,
        reflector: Any,
        /,
        store: Any = None,
        *,
        max_workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = 0.1,
    ) -> None:
        if not callable(getattr(reflector, "invoke", None)):
            raise InvalidPayloadTypeError(
                "reflector: expected a Runnable (e.g. a langmem memory manager) with "
                f".invoke(), got {type(reflector).__name__}; for a graph on a server use "
                "ReflectionExecutor('memory_manager', namespace)"
            )
        self.reflector = reflector
        self.store = store
        self._pass_config = _takes_config(reflector.invoke)
        self._clock = clock
        self._poll_interval = poll_interval
        self._cond = threading.Condition()
        self._threads: dict[str, _Thread] = {}
        self._closed = False
        self._draining = False
        self._slots = threading.BoundedSemaphore(max_workers)
        self._scheduler = threading.Thread(
            target=self._schedule_loop, daemon=True, name="reflect-local"
        )
        self._scheduler.start()
        _LIVE.add(self)

    # ------------------------------------------------------------------ submit

    def submit(
        self,
        payload: Any,
        /,
        config: Mapping[str, Any] | None = None,
        *,
        after_seconds: float = 0,
        thread_id: Any = NOT_GIVEN,
    ) -> LocalFuture:
        """Queue a conversation; it runs once the thread has been quiet ``after_seconds``.

        A newer submission on the thread before then joins the same run: the
        run sees both submissions' messages, and both Futures get its result.

        Args:
            payload: ``{"messages": [...]}`` as the runnable takes it; other keys
                are passed on (the newest submission's win). Any other payload
                is passed as it is; a newer one replaces it (as in langmem) and
                both Futures get the run's result.
            config: A LangGraph config; ``configurable.thread_id`` names the thread
                when ``thread_id`` is not given; ``configurable`` goes to the runnable.
            after_seconds: Seconds of quiet to wait before processing (>= 0).
            thread_id: The conversation. Default: from ``config`` or the LangGraph
                context; with none there, the submission is a thread of its own
                (debounced with nothing else, as langmem does without a thread).

        Returns:
            A :class:`LocalFuture` resolving to what the runnable returned.

        Raises:
            InvalidPayloadError: the payload or thread is malformed.
            ExecutorShutdownError: the executor was shut down.
        """
        messages, message_ids = _messages_of(payload)
        delay = validate_after_seconds(after_seconds)
        submission_id = str(uuid.uuid4())
        tid = resolve_thread_id(thread_id, config, missing_ok=True) or f"own-{submission_id}"
        fut = LocalFuture(submission_id, tid)
        item = _Pending(
            submission_id=submission_id,
            payload=payload,
            messages=messages,
            message_ids=message_ids,
            config=self._run_config(config),
            future=fut,
        )
        with self._cond:
            if self._closed:
                raise ExecutorShutdownError("submit(): the executor has been shut down")
            thread = self._threads.setdefault(tid, _Thread())
            thread.pending.append(item)
            thread.due_at = self._clock() + delay
            self._cond.notify_all()
        return fut

    def _run_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The config a run gets: the caller's ``configurable`` values, and the store."""
        source = config if config is not None else (ambient_config() or {})
        given = source.get("configurable") or {}
        if self.store is None:  # langmem's inference: the calling graph's store, kept
            self.store = _runtime_store(given)
        # Only the caller's values: the ambient config also holds the calling graph's
        # internals (callbacks, checkpointer) that must not outlive its run.
        configurable = {k: v for k, v in given.items() if not k.startswith("__")}
        if self.store is not None:
            configurable = _with_store(configurable, self.store)
        return {"configurable": configurable}

    def _invoke(self, run_input: Any, config: dict[str, Any]) -> Any:
        # The config is in the context either way, as langmem puts it: a Runnable
        # that does not set it up itself still finds its store with get_store().
        with _config_in_context(config):
            if self._pass_config:
                return self.reflector.invoke(run_input, config)
            return self.reflector.invoke(run_input)

    # --------------------------------------------------------------- scheduler

    def _schedule_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    due = self._take_due()
                    if due is not None:
                        break
                    if self._closed and not self._threads:
                        return
                    self._cond.wait(self._nap())
            # A thread per run, not a pool: a pool refuses work once the interpreter
            # starts exiting, which is when shutdown() may still have runs to do.
            threading.Thread(target=self._run, args=due, daemon=True, name="reflect-run").start()

    def _take_due(self) -> tuple[str, list[_Pending]] | None:
        """Take a due thread's whole batch (caller holds the lock)."""
        now = self._clock()
        for tid, thread in self._threads.items():
            if thread.pending and not thread.running and (self._draining or thread.due_at <= now):
                batch, thread.pending = thread.pending, []
                thread.running = True
                return tid, batch
        return None

    def _nap(self) -> float | None:
        """How long to wait for a change (caller holds the lock); None: until notified."""
        waiting = [t.due_at for t in self._threads.values() if t.pending and not t.running]
        if not waiting:
            return None
        return max(0.0, min(self._poll_interval, min(waiting) - self._clock()))

    def _run(self, thread_id: str, batch: list[_Pending]) -> None:
        try:
            run_input, config = merge(batch)
            with self._slots:
                result = self._invoke(run_input, config)
        except BaseException as err:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(err)
        else:
            for item in batch:
                if not item.future.done():
                    item.future.set_result(result)
        finally:
            with self._cond:
                thread = self._threads[thread_id]
                thread.running = False
                if not thread.pending:
                    del self._threads[thread_id]
                self._cond.notify_all()

    # --------------------------------------------------------------- control

    def pending(self, thread_id: Any = NOT_GIVEN) -> int:
        """Submissions not processed yet (on one thread, or on all)."""
        with self._cond:
            threads = (
                list(self._threads.values())
                if thread_id is NOT_GIVEN
                else [self._threads.get(resolve_thread_id(thread_id, None), _Thread())]
            )
            return sum(len(t.pending) for t in threads)

    def cancel(self, thread_id: Any) -> int:
        """Drop a thread's pending batch (a run already executing finishes).

        Returns:
            How many submissions were cancelled.
        """
        tid = resolve_thread_id(thread_id, None)
        with self._cond:
            thread = self._threads.get(tid)
            if thread is None:
                return 0
            batch, thread.pending = thread.pending, []
            if not thread.running:
                del self._threads[tid]
        for item in batch:
            if item.future.done():  # the caller cancelled the Future itself
                continue
            item.future.set_exception(
                SubmissionCancelledError(
                    f"submission {item.submission_id} cancelled by cancel({thread_id!r})",
                    submission_id=item.submission_id,
                    thread_id=tid,
                )
            )
        return len(batch)

    def flush(self, timeout: float | None = None) -> None:
        """Block until every submission so far is processed (or failed).

        Does not hurry them: each still waits for its quiet period.

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            futures = [p.future for t in self._threads.values() for p in t.pending]
        for fut in futures:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                fut.exception(left)
            except TimeoutError:
                raise FlushTimeoutError(
                    f"flush(): submission {fut.submission_id} not processed within {timeout} s"
                ) from None
        self._wait_idle(deadline, timeout)

    def _wait_idle(self, deadline: float | None, timeout: float | None) -> None:
        """Wait until no run that was taken before is still executing."""
        with self._cond:
            while any(t.running for t in self._threads.values()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise FlushTimeoutError(f"flush(): a run still executing after {timeout} s")
                self._cond.wait(left)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking submissions, and run what is pending now rather than lose it.

        Args:
            wait: Block until those runs finish.
            cancel_futures: Drop pending submissions instead of running them;
                their Futures raise :class:`SubmissionCancelledError`.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            tids = list(self._threads)
        if cancel_futures:
            for tid in tids:
                self.cancel(tid)
        with self._cond:
            self._draining = True
            self._cond.notify_all()
        if wait:
            self._drain()
            self._scheduler.join()
        _LIVE.discard(self)

    def _drain(self) -> None:
        """Run every pending batch now, in this thread, and wait for those running."""
        while True:
            with self._cond:
                due = self._take_due()
                if due is None:
                    if not self._threads:
                        return
                    self._cond.wait()
                    continue
            self._run(*due)


@atexit.register
def _drain_all() -> None:
    for executor in list(_LIVE):
        executor.shutdown(wait=True)
