"""The remote executor's decisions, written once as flows, and the two drivers that run them.

A *flow* is a generator that holds one multi-request decision (send a group,
check a thread, cancel ...). It yields *steps*, descriptions of I/O (call the
langgraph-sdk client, sleep, wait for a Future), and receives each step's
answer, or has its exception thrown in at the ``yield``. Its return value is
the flow's result. This is httpx's ``Auth.auth_flow`` shape: each decision is
written once, here, and :func:`run_sync` and :func:`run_async` only do what is
yielded, with or without ``await``, so the same code runs under the sync
executor (its threads) and the async one (its event loop), and unit tests feed
flows scripted answers. What a flow learns goes to the
:class:`~sdk_client._ledger.Ledger`.

* :func:`retrying`: one call, repeated as the :class:`~sdk_client._http.RetryPolicy` says.
* :meth:`Flows.send`: write a group's inbox entry, plan the run, create it, with retries.
* :meth:`Flows.watch`: for each thread whose run is due, read its receipts and,
  for submissions still waiting, follow the run: processed, failed, superseded
  by another client's run (then follow that one), or lost by the server.
* :meth:`Flows.status`, :meth:`Flows.cancel`, :meth:`Flows.search`.
* :meth:`Flows.history`, :meth:`Flows.undo`, :meth:`Flows.change_memory`: a memory's
  changes, and a change of the caller's own, recorded like the graph's.
* :func:`erase`: everything of one user (``memory-reflect forget``).
* :meth:`Flows.wait_accepted`, :meth:`Flows.flush`: wait for every Future so far.
* What the server's answers mean (:func:`thread_status`, :func:`missing`,
  :func:`not_found`), shared with the CLI so both read the server the same way.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypeVar

from sdk_client._http import RetryPolicy
from sdk_client._ledger import Ledger, RunPlan
from sdk_client._submission import Request, Submission
from sdk_client.contract import META_PATH, validate_namespace, validate_thread_id
from sdk_client.errors import (
    ConsolidationError,
    FlushTimeoutError,
    HistoryNotFoundError,
    InvalidPayloadError,
)
from sdk_client.records import (
    DEFAULT_HISTORY_DAYS,
    DELIVERY_KEY,
    DELIVERY_LABEL,
    INBOX_LABEL,
    NAMESPACE_RECORD_LABELS,
    NOT_A_USE_HEADER,
    RECEIPTS_LABEL,
    RUNS_PAGE,
    STORE_PAGE,
    delivery_namespace,
    held_submissions,
    history_entry,
    history_key,
    history_namespace,
    history_ttl_minutes,
    inbox_count,
    inbox_namespace,
    paged,
    receipts_namespace,
    thread_records,
)
from sdk_client.types import Delivery, MemoryChange, SubmissionFuture, ThreadStatus

__all__ = [
    "FAILED_RUN",
    "ONCE",
    "Call",
    "Erased",
    "Flow",
    "Flows",
    "ServerFeatures",
    "Sleep",
    "Step",
    "WaitForFuture",
    "delivery_of",
    "erase",
    "missing",
    "not_found",
    "retrying",
    "run_async",
    "run_sync",
    "thread_status",
]

logger = logging.getLogger("sdk_client")

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """Call a method of the langgraph-sdk client; the answer is what it returns.

    ``Call("runs.get", (thread_id, run_id))`` is ``client.runs.get(thread_id, run_id)``
    on the sync client and ``await client.runs.get(thread_id, run_id)`` on the async one.
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sleep:
    """Pause the flow (a retry's backoff); the answer is ``None``."""

    seconds: float


@dataclass(frozen=True)
class WaitForFuture:
    """Wait up to ``timeout`` seconds for a Future.

    ``until="accepted"``: as ``fut.wait_accepted(timeout)``, which raises if it
    times out or the submission was never accepted; the answer is ``None``.
    ``until="resolved"``: the answer is True if the Future resolved in time.
    """

    future: SubmissionFuture
    timeout: float | None
    until: Literal["accepted", "resolved"]


Step: TypeAlias = Call | Sleep | WaitForFuture
Flow: TypeAlias = Generator[Step, Any, T]


@dataclass(frozen=True)
class _Done:
    """The flow ended with ``value``."""

    value: Any


def _resume(flow: Flow[Any], answer: Any = None, error: Exception | None = None) -> Step | _Done:
    """Hand the last step's answer (or exception) to the flow; its next step, or its end."""
    try:
        return flow.send(answer) if error is None else flow.throw(error)
    except StopIteration as done:
        return _Done(done.value)


def _method(client: Any, call: Call) -> Any:
    if client is None:
        raise TypeError(f"{call.method}: this flow was driven without a client")
    return operator.attrgetter(call.method)(client)


def run_sync(flow: Flow[T], client: Any = None) -> T:
    """Drive ``flow`` to its end on a sync langgraph-sdk client; return its result."""
    with closing(flow):
        step = _resume(flow)
        while not isinstance(step, _Done):
            try:
                answer = _do_sync(step, client)
            except Exception as err:  # the flow decides what a failure means
                step = _resume(flow, error=err)
            else:
                step = _resume(flow, answer)
        return step.value  # type: ignore[no-any-return]


def _do_sync(step: Step, client: Any) -> Any:
    if isinstance(step, Call):
        return _method(client, step)(*step.args, **step.kwargs)
    if isinstance(step, Sleep):
        return time.sleep(step.seconds)
    if step.until == "accepted":
        return step.future.wait_accepted(step.timeout)
    try:
        step.future.exception(step.timeout)
    except TimeoutError:
        return False
    return True


async def run_async(flow: Flow[T], client: Any = None) -> T:
    """Drive ``flow`` to its end on an async langgraph-sdk client; return its result."""
    with closing(flow):
        step = _resume(flow)
        while not isinstance(step, _Done):
            step = await _step_async(flow, step, client)
        return step.value  # type: ignore[no-any-return]


async def _step_async(flow: Flow[Any], step: Step, client: Any) -> Step | _Done:
    """Do one step with ``await``; the flow's next one."""
    try:
        answer = await _do_async(step, client)
    except Exception as err:  # the flow decides what a failure means
        return _resume(flow, error=err)
    return _resume(flow, answer)


async def _do_async(step: Step, client: Any) -> Any:
    if isinstance(step, Call):
        return await _method(client, step)(*step.args, **step.kwargs)
    if isinstance(step, Sleep):
        return await asyncio.sleep(step.seconds)
    if step.until == "accepted":
        return await step.future.wait_accepted_async(step.timeout)
    done, _ = await asyncio.wait([asyncio.wrap_future(step.future)], timeout=step.timeout)
    return bool(done)


def retrying(policy: RetryPolicy, call: Call) -> Flow[Any]:
    """The flow that makes ``call`` until it succeeds, fails for good, or the tries run out.

    Use it as ``answer = yield from retrying(policy, Call(...))`` inside a flow.
    """
    attempt = 1
    while True:
        try:
            return (yield call)
        except Exception as exc:
            delay = policy.delay(attempt, exc)
            if delay is None:
                raise
        yield Sleep(delay)
        attempt += 1


# What the server's answers mean.

FAILED_RUN = frozenset({"error", "timeout", "interrupted"})
"""Run statuses that end a run without processing its inbox."""


def not_found(err: BaseException) -> bool:
    """True if ``err`` is the server answering 404 (the thread or run does not exist)."""
    return getattr(err, "status_code", None) == 404


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value).timestamp()  # 3.11 reads a "Z" too
    return None


def thread_status(
    thread_id: str,
    runs: Sequence[Mapping[str, Any]],
    inbox_count: int,
    delivery: Delivery | None = None,
) -> ThreadStatus:
    """Summarise a thread from its pending/running runs, inbox size and delivery record."""
    for wanted in ("running", "pending"):
        for run in runs:
            if run.get("status") == wanted:
                return ThreadStatus(
                    thread_id=thread_id,
                    state=wanted,
                    run_id=str(run.get("run_id")),
                    # The server records a deferred run's created_at as its due time.
                    due_at=_epoch(run.get("created_at")) if wanted == "pending" else None,
                    inbox=inbox_count,
                    delivery=delivery,
                )
    return ThreadStatus(thread_id=thread_id, state="idle", inbox=inbox_count, delivery=delivery)


def delivery_of(item: Mapping[str, Any] | None) -> Delivery | None:
    """A thread's delivery record (a store item, or None) as a :class:`Delivery`."""
    return Delivery.from_record(item["value"]) if item else None


def missing(
    ids: Iterable[str],
    inbox: Sequence[Mapping[str, Any]],
    receipts: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Those of ``ids`` neither in the thread's inbox items nor receipted.

    Asked once their run is gone or finished, so nothing will process them now:
    the server lost them (a dev server killed before it wrote its data to disk).
    Callers must read ``receipts`` after ``inbox``: a run that commits meanwhile
    writes its receipts before it deletes the inbox entries it read.
    """
    held = held_submissions(inbox)
    receipted = {str(i["key"]) for i in receipts}
    return [sid for sid in ids if sid not in held and sid not in receipted]


ONCE = RetryPolicy(max_attempts=1)
"""No retry: for the watcher's reads, which the next poll repeats anyway."""


@dataclass
class ServerFeatures:
    """What the server does beyond a plain LangGraph server (``GET /reflect/meta``), asked once.

    A server without the route (no ``http.app``, e.g. the langhost runtime) has none.
    """

    known: bool = False
    capture: bool = False
    """It writes a run's input to the inbox itself: one request per submission is enough."""
    redelivery: bool = False
    """It runs work whose run failed again: a failed run is not the end of a Future."""
    history_days: float = DEFAULT_HISTORY_DAYS
    """How long it keeps a memory's history (``MEMORY_HISTORY_DAYS``; 0: for ever)."""

    @staticmethod
    def ask(retry: RetryPolicy) -> Flow[ServerFeatures]:
        """Ask the server (``GET /reflect/meta``); a server without the route has none."""
        try:
            meta = yield from retrying(retry, Call("http.get", (META_PATH,)))
        except Exception as err:
            if not not_found(err):
                raise
            meta = {}
        meta = meta if isinstance(meta, dict) else {}  # not ours: a plain server
        history = meta.get("history") or {}
        return ServerFeatures(
            known=True,
            capture=bool(meta.get("capture")),
            redelivery=bool((meta.get("redelivery") or {}).get("attempts")),
            history_days=float(history.get("days", DEFAULT_HISTORY_DAYS)),
        )


@dataclass(frozen=True)
class Flows:
    """One executor's decisions, over its Ledger and settings.

    Attributes:
        ledger: The executor's bookkeeping.
        retry: How to retry the sender's calls.
        reflector: The graph or assistant id runs are created on.
        namespace: The executor's memory namespace (what ``search`` reads by default).
        url: The server, named in errors.
        api_key: Maps conversation keys to threads on keyed servers (see the contract).
        clock: Epoch seconds; due times are measured with it.
    """

    ledger: Ledger
    retry: RetryPolicy
    reflector: str
    namespace: tuple[str, ...]
    url: str
    api_key: str | None = None
    clock: Callable[[], float] = time.time
    features: ServerFeatures = field(default_factory=ServerFeatures)

    def server_features(self) -> Flow[ServerFeatures]:
        """What the server does (asked the first time only)."""
        known = self.features
        if not known.known:
            asked = yield from ServerFeatures.ask(self.retry)
            known.capture, known.redelivery = asked.capture, asked.redelivery
            known.history_days, known.known = asked.history_days, True
        return known

    # ------------------------------------------------------------------ send

    def send(self, req: Request, subs: list[Submission]) -> Flow[bool]:
        """Make the server hold ``subs``: inbox entry, then a run. True once accepted.

        A server that captures runs writes the entry itself, so a single submission
        is one request; a coalesced group still writes its entry (all its messages),
        which makes at most one request per submission either way.
        """
        try:
            features = yield from self.server_features()
            own_entry = not features.capture or len(subs) > 1
            if own_entry:
                yield from retrying(self.retry, self._put_inbox(req))
        except Exception as err:
            self.ledger.not_accepted(subs, err, "writing the inbox", self.url)
            return False
        try:
            plan = yield from self.plan_run(req.thread_id)
            sent = self.clock()
            run = yield from retrying(self.retry, self._create_run(req, plan))
        except Exception as err:
            if own_entry:  # the server takes back what it captured itself
                yield from self._take_back(req)
            self.ledger.not_accepted(subs, err, "creating the run", self.url)
            return False
        self.ledger.accepted(
            req.thread_id, str(run["run_id"]), subs, due_at=sent + req.after_seconds, plan=plan
        )
        return True

    @staticmethod
    def _put_inbox(req: Request) -> Call:
        entry = dict(req.inbox_entry)
        args = (inbox_namespace(req.thread_id), req.inbox_key, entry)
        return Call("store.put_item", args, {"index": False})

    def _create_run(self, req: Request, plan: RunPlan) -> Call:
        options = {
            "input": req.run_input,
            "config": req.run_config,
            "multitask_strategy": plan.strategy,
            # The server takes fractional seconds (the seed uses 0.5); the SDK hints int.
            "after_seconds": req.after_seconds,
            "if_not_exists": "create",
        }
        return Call("runs.create", (req.thread_id, self.reflector), options)

    @staticmethod
    def _take_back(req: Request) -> Flow[None]:
        # Without a run nothing would process the entry soon: take it back so that
        # "not accepted" means "not held". Message ids keep a resubmission from
        # duplicating anything if this cleanup itself fails.
        try:
            yield Call("store.delete_item", (inbox_namespace(req.thread_id), req.inbox_key))
        except Exception:
            logger.warning(
                "could not remove inbox entry %s after a failed run create", req.inbox_key
            )

    def plan_run(self, thread_id: str) -> Flow[RunPlan]:
        """Supersede our pending run, but never one that is running (see :class:`RunPlan`)."""
        statuses: dict[str, str | None] = {}
        for rid in self.ledger.may_be_running(thread_id, self.clock()):
            statuses[rid] = yield from self.run_status(thread_id, rid, self.retry)
        plan = self.ledger.plan_run(thread_id, statuses)
        for rid in plan.cancel:
            try:
                yield Call("runs.cancel", (thread_id, rid), {"action": "rollback"})
            except Exception as err:  # started or finished meanwhile: it processes the inbox
                logger.debug("could not cancel superseded run %s: %s", rid, err)
        return plan

    def run_status(
        self, thread_id: str, run_id: str, retry: RetryPolicy = ONCE
    ) -> Flow[str | None]:
        """A run's status; None if the server no longer has it."""
        try:
            run = yield from retrying(retry, Call("runs.get", (thread_id, run_id)))
        except Exception as err:
            if not_found(err):
                return None
            raise
        return str(run["status"])

    # ----------------------------------------------------------------- watch

    def watch(self) -> Flow[bool]:
        """One poll: check every thread whose run is due. True once the executor is drained."""
        for tid in self.ledger.due_threads(self.clock()):
            try:
                yield from self.check_thread(tid)
            except Exception as err:  # the server may be restarting: try again next poll
                logger.debug("checking thread %s failed: %s", tid, err)
        return self.ledger.drained()

    def check_thread(self, thread_id: str) -> Flow[None]:
        """Resolve what the thread's receipts say was processed; follow the run for the rest."""
        receipts = yield from self.read_all(receipts_namespace(thread_id))
        for key in self.ledger.resolve_processed(thread_id, receipts):
            try:
                yield Call("store.delete_item", (receipts_namespace(thread_id), key))
            except Exception:
                logger.debug("could not delete receipt %s", key)
        run_id, left = self.ledger.unprocessed(thread_id)
        if left and run_id:
            yield from self.check_run(thread_id, run_id, left)

    def check_run(self, thread_id: str, run_id: str, left: list[str]) -> Flow[None]:
        """Decide what became of ``left``, still unreceipted, from their run's status."""
        status = yield from self.run_status(thread_id, run_id)  # None: deleted, superseded
        if status is None or status == "interrupted":
            # Another client (or langmem's executor) superseded our run; the newer run
            # reads the same inbox, so its outcome is ours: follow it.
            latest = yield from self.latest_run(thread_id)
            if latest is not None and latest != run_id:
                self.ledger.follow(thread_id, latest)
                return
        if status is None or status == "success":
            # Gone with nothing newer, or finished without a receipt for these: either
            # they still wait in the inbox, or the server lost them. Never report them
            # processed. The inbox is read before the receipts (see missing()).
            inbox = yield from self.read_all(inbox_namespace(thread_id))
            receipts = yield from self.read_all(receipts_namespace(thread_id))
            self.ledger.lost(thread_id, run_id, missing(left, inbox, receipts))
        elif status in FAILED_RUN:
            yield from self._failed(thread_id, run_id, status, left)

    def _failed(self, thread_id: str, run_id: str, status: str, left: list[str]) -> Flow[None]:
        """A run of ``left`` failed: the end, unless the server runs the work again."""
        if not self.features.redelivery:
            self.ledger.run_failed(thread_id, run_id, status, left)
            return
        latest = yield from self.latest_run(thread_id)
        if latest is not None and latest != run_id:
            self.ledger.follow(thread_id, latest)  # the server's next attempt
            return
        delivery = (yield from self.delivery(thread_id)) or Delivery()
        if delivery.parked:
            self.ledger.parked(thread_id, run_id, left, delivery)
        else:
            self.ledger.redelivering(thread_id, left, delivery)

    @staticmethod
    def delivery(thread_id: str) -> Flow[Delivery | None]:
        """The server's redelivery of the thread's work, if any (its delivery record)."""
        item = yield Call("store.get_item", (delivery_namespace(thread_id), DELIVERY_KEY))
        return delivery_of(item)

    def restart_redelivery(self, thread_id: Any) -> Flow[bool]:
        """Run a thread's waiting work again now (parked or not); False if a run is on its way.

        Raises:
            InvalidPayloadError: ``thread_id`` is malformed (at once, before any request).
        """
        return self._restart_redelivery(validate_thread_id(thread_id, api_key=self.api_key))

    def _restart_redelivery(self, tid: str) -> Flow[bool]:
        try:  # the redeliverer's count starts over
            yield Call("store.delete_item", (delivery_namespace(tid), DELIVERY_KEY))
        except Exception as err:
            if not not_found(err):
                raise
        options = {
            "input": {"messages": [], "redelivery": 1},
            "multitask_strategy": "reject",
            "if_not_exists": "create",
        }
        try:
            yield Call("runs.create", (tid, self.reflector), options)
        except Exception as err:
            if getattr(err, "status_code", None) == 409:
                return False
            raise
        return True

    @staticmethod
    def latest_run(thread_id: str) -> Flow[str | None]:
        """The thread's newest run, or None if it has none (or the thread is gone)."""
        try:
            latest = yield Call("runs.list", (thread_id,), {"limit": 1})
        except Exception as err:
            if not not_found(err):
                raise
            return None
        return str(latest[0]["run_id"]) if latest else None

    # ----------------------------------------------------------- inspection

    def status(self, thread_id: Any) -> Flow[ThreadStatus]:
        """What the server is doing for a thread: idle, pending (and when due) or running.

        Raises:
            InvalidPayloadError: ``thread_id`` is malformed (at once, before any request).
        """
        return self._status(validate_thread_id(thread_id, api_key=self.api_key))

    def _status(self, tid: str) -> Flow[ThreadStatus]:
        features = yield from self.server_features()
        runs = yield from self.inflight(tid)
        inbox = yield from self.read_all(inbox_namespace(tid))
        delivery = (yield from self.delivery(tid)) if features.redelivery else None
        return thread_status(tid, runs, inbox_count(inbox), delivery)

    @staticmethod
    def inflight(thread_id: str) -> Flow[list[Mapping[str, Any]]]:
        """The thread's running, then pending runs; none if the server has no such thread."""
        try:
            running = yield from Flows._all_runs(thread_id, "running")
            pending = yield from Flows._all_runs(thread_id, "pending")
        except Exception as err:
            if not not_found(err):
                raise
            return []
        return [*running, *pending]

    @staticmethod
    def cancel_runs(thread_id: str) -> Flow[None]:
        """Cancel (roll back) the thread's running and pending runs."""
        for run in (yield from Flows.inflight(thread_id)):
            try:
                yield Call("runs.cancel", (thread_id, str(run["run_id"])), {"action": "rollback"})
            except Exception as err:  # finished or deleted meanwhile
                logger.debug("cancel of run %s: %s", run["run_id"], err)

    @staticmethod
    def _all_runs(thread_id: str, status: str) -> Flow[list[Mapping[str, Any]]]:
        """Every run of the thread in ``status``, page by page."""
        return (yield from _pages("runs.list", (thread_id,), {"status": status}, RUNS_PAGE))

    def cancel(self, thread_id: Any) -> Flow[int]:
        """Cancel a thread's runs, inbox and this executor's Futures; how many Futures.

        Raises:
            InvalidPayloadError: ``thread_id`` is malformed (at once, before any request).
        """
        return self._cancel(validate_thread_id(thread_id, api_key=self.api_key), thread_id)

    def _cancel(self, tid: str, asked: Any) -> Flow[int]:
        yield from self.cancel_runs(tid)
        inbox = yield from self.read_all(inbox_namespace(tid))
        for item in inbox:
            yield Call("store.delete_item", (inbox_namespace(tid), item["key"]))
        return self.ledger.cancel_thread(tid, asked)

    def search(
        self,
        query: str | None,
        filter: dict[str, Any] | None,
        limit: int,
        offset: int,
        namespace: str | Sequence[str] | None,
    ) -> Flow[list[dict[str, Any]]]:
        """Search stored memories (default: the executor's namespace).

        Raises:
            InvalidPayloadError: ``namespace`` is malformed (at once, before any request).
        """
        ns = self.namespace if namespace is None else validate_namespace(namespace)
        options = {"query": query, "filter": filter, "limit": limit, "offset": offset}
        return self._search_memories(Call("store.search_items", (ns,), options))

    @staticmethod
    def _search_memories(call: Call) -> Flow[list[dict[str, Any]]]:
        found = yield call
        return [{**item, "namespace": tuple(item["namespace"])} for item in found["items"]]

    # --------------------------------------------------------------- history

    def history(
        self, key: str | None, namespace: str | Sequence[str] | None, limit: int
    ) -> Flow[list[MemoryChange]]:
        """A namespace's memory changes (one memory's, with ``key``), newest first.

        Raises:
            InvalidPayloadError: an argument is malformed (at once, before any request).
        """
        ns = self.namespace if namespace is None else validate_namespace(namespace)
        if key is not None and (not isinstance(key, str) or not key):
            raise InvalidPayloadError(
                f"key: expected a memory's key (a non-empty string), got {key!r}"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidPayloadError(f"limit: expected a whole number >= 1, got {limit!r}")
        return self._history(ns, key, limit)

    @staticmethod
    def _history(ns: tuple[str, ...], key: str | None, limit: int) -> Flow[list[MemoryChange]]:
        options = {"filter": {"key": key}} if key else {}
        args = (history_namespace(ns),)
        items = yield from _pages("store.search_items", args, options, STORE_PAGE, "items")
        changes = [MemoryChange.from_item(item) for item in items]
        return sorted(changes, key=lambda c: (c.at, c.id), reverse=True)[:limit]

    def undo(self, change_id: str, namespace: str | Sequence[str] | None) -> Flow[MemoryChange]:
        """Bring a memory back to what it was before a change; the undo is itself a change.

        Raises:
            InvalidPayloadError: an argument is malformed (at once, before any request).
        """
        ns = self.namespace if namespace is None else validate_namespace(namespace)
        if not isinstance(change_id, str) or not change_id:
            raise InvalidPayloadError(f"change_id: expected a change's id, got {change_id!r}")
        return self._undo(ns, change_id)

    def _undo(self, ns: tuple[str, ...], change_id: str) -> Flow[MemoryChange]:
        item = yield from _get_item(history_namespace(ns), change_id)
        if item is None:
            raise HistoryNotFoundError(
                f"undo: no change {change_id!r} in the history of {'/'.join(ns)} "
                "(see history(); entries expire after MEMORY_HISTORY_DAYS)"
            )
        change = MemoryChange.from_item(item)
        features = yield from self.server_features()
        flow = Flows.change_memory(
            change.namespace, change.key, change.before, self.clock(), features.history_days,
            restores=change.id,
        )  # fmt: skip
        return (yield from flow)

    def consolidate(
        self, namespace: str | Sequence[str] | None, max_memories: int | None
    ) -> Flow[list[str]]:
        """Run one consolidation of a namespace on the server and wait; the retired paths.

        Raises:
            InvalidPayloadError: an argument is malformed (at once, before any request).
        """
        ns = self.namespace if namespace is None else validate_namespace(namespace)
        if max_memories is not None and (
            isinstance(max_memories, bool) or not isinstance(max_memories, int) or max_memories < 0
        ):
            raise InvalidPayloadError(
                f"max_memories: expected a whole number >= 0 (0: no bound), got {max_memories!r}"
            )
        return self._consolidate(ns, max_memories)

    def _consolidate(self, ns: tuple[str, ...], max_memories: int | None) -> Flow[list[str]]:
        # One thread per namespace (and key): "reject" keeps it to one consolidation at once.
        key = "memory-reflect:consolidate:" + "/".join(ns)
        thread_id = validate_thread_id(key, api_key=self.api_key)
        options = {
            "input": {"messages": [], "consolidate": True},
            "config": {"configurable": {"namespace": list(ns)}},
            "multitask_strategy": "reject",
            "if_not_exists": "create",
            "raise_error": False,  # a refusal comes back as the run's error, said below
        }
        if max_memories is not None:  # else the assistant's, or MEMORY_MAX_MEMORIES
            options["config"]["configurable"]["max_memories"] = max_memories  # type: ignore[index]
        try:
            out = yield Call("runs.wait", (thread_id, self.reflector), options)
        except Exception as err:
            if getattr(err, "status_code", None) == 409:
                raise ConsolidationError(
                    f"consolidate {'/'.join(ns)}: one is running already"
                ) from err
            raise
        out = out if isinstance(out, dict) else {}
        if error := out.get("__error__"):
            raise ConsolidationError(str(error.get("message") or error))
        return list((out.get("changes") or {}).get("deleted") or [])

    @staticmethod
    def change_memory(
        namespace: Sequence[str],
        key: str,
        value: dict[str, Any] | None,
        now: float,
        history_days: float,
        *,
        restores: str | None = None,
    ) -> Flow[MemoryChange]:
        """Write a memory (delete it: ``value`` None) through the store API, with its history entry.

        For changes made outside a run (an undo, the CLI's ``memories delete``), so they
        are in the history like the graph's and can be undone in turn.
        """
        ns = tuple(namespace)
        current = yield from _get_item(ns, key)
        before = current["value"] if current else None
        if value is None:
            if before is not None:
                yield Call("store.delete_item", (ns, key))
        else:
            yield Call("store.put_item", (ns, key, value))
        entry = history_entry(ns, key, before, value, now, restores=restores)
        entry_key = history_key(key, now)
        ttl = history_ttl_minutes(history_days)
        options = {"index": False, "ttl": None if ttl is None else max(1, round(ttl))}
        yield Call("store.put_item", (history_namespace(ns), entry_key, dict(entry)), options)
        return MemoryChange.from_item({"key": entry_key, "value": entry})

    @staticmethod
    def read_all(
        namespace: tuple[str, ...], headers: dict[str, str] | None = None
    ) -> Flow[list[dict[str, Any]]]:
        """Every item in ``namespace`` (or below it), page by page."""
        options = {} if headers is None else {"headers": headers}
        return (yield from _pages("store.search_items", (namespace,), options, STORE_PAGE, "items"))

    # --------------------------------------------------------------- waiting

    def wait_accepted(self, timeout: float | None) -> Flow[None]:
        """Wait until every submission so far is accepted (or failed); re-raise the first error."""
        for fut, left in self._turns(timeout):
            yield WaitForFuture(fut, left, "accepted")

    def flush(self, timeout: float | None) -> Flow[None]:
        """Wait until every submission so far is processed (or failed).

        Raises:
            FlushTimeoutError: ``timeout`` passed first; the work goes on.
        """
        for fut, left in self._turns(timeout):
            if not (yield WaitForFuture(fut, left, "resolved")):
                raise _flush_timeout(fut, timeout)

    def _turns(self, timeout: float | None) -> Iterator[tuple[SubmissionFuture, float | None]]:
        """Each Future not resolved yet, with what is left of ``timeout`` when its turn comes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for fut in self.ledger.pending():
            yield fut, None if deadline is None else max(0.0, deadline - time.monotonic())


def _flush_timeout(fut: SubmissionFuture, timeout: float | None) -> FlushTimeoutError:
    return FlushTimeoutError(
        f"flush(): submission {fut.submission_id} not processed within {timeout} s "
        f"(stage: {fut.stage.value})"
    )


def _pages(
    method: str, args: tuple[Any, ...], options: dict[str, Any], size: int, key: str | None = None
) -> Flow[list[Any]]:
    """Every page of a listing call, as :class:`Call` objects (:func:`sdk_client.records.paged`)."""
    return (
        yield from paged(
            lambda limit, offset: Call(method, args, {**options, "limit": limit, "offset": offset}),
            size,
            key,
        )
    )


def _get_item(namespace: tuple[str, ...], key: str) -> Flow[dict[str, Any] | None]:
    """A store item, or None if there is none (a 404, or the SDK's empty answer)."""
    try:
        item = yield Call("store.get_item", (namespace, key))
    except Exception as err:
        if not not_found(err):
            raise
        return None
    return dict(item) if item else None


# --------------------------------------------------------------------- erasure

WHOAMI_PATH = "/inspector/api/whoami"
_THREAD_LABELS = frozenset({INBOX_LABEL, RECEIPTS_LABEL, DELIVERY_LABEL})


@dataclass
class Erased:
    """What :func:`erase` deleted."""

    namespaces: list[tuple[str, ...]] = field(default_factory=list)
    items: int = 0
    threads: list[str] = field(default_factory=list)


def erase(user: str | None, namespaces: Sequence[Sequence[str]], graph_id: str) -> Flow[Erased]:
    """Delete one user's memories, their history, and the conversations that fed them.

    On a keyed server ``user`` must be the caller's own identity, and everything the
    key owns goes: every store namespace under its prefix (memories, history, inbox,
    receipts, delivery records) and every memory-manager thread (its runs and
    checkpoints, which hold the messages). On an open server there are no owners:
    ``user`` names a namespace label (``memories/alice`` for ``alice``), and what goes
    is every memory namespace holding it, its history, and each thread whose last run
    wrote there or whose inbox waits for it. ``namespaces`` adds namespaces to erase
    (and their history). Threads go first, their runs cancelled, so no run writes a
    memory back after its namespace was emptied.

    Raises:
        InvalidPayloadError: nothing was named, or a namespace is malformed (at once),
            or ``user`` is not the key's identity (before anything is deleted).
    """
    targets = [validate_namespace(ns, "--namespace") for ns in namespaces]
    if user is None and not targets:
        raise InvalidPayloadError("forget: name a --user or at least one --namespace")
    return _erase(user, targets, graph_id)


def _erase(user: str | None, targets: list[tuple[str, ...]], graph_id: str) -> Flow[Erased]:
    identity, prefix = yield from _whoami()
    if prefix and user is not None and user != identity:
        raise InvalidPayloadError(
            f"--user {user!r}: this API key is {identity!r}'s; erase with {user!r}'s own key"
        )
    everything = bool(prefix) and user is not None
    listed = yield from _pages("store.list_namespaces", (), {}, RUNS_PAGE, "namespaces")
    owned = [_unprefixed(ns, prefix) for ns in listed]

    def chosen(ns: tuple[str, ...]) -> bool:
        if everything:
            return True
        if ns and ns[0] in _THREAD_LABELS:
            return False  # per thread: they go with their thread below
        memory = ns[1:] if ns and ns[0] in NAMESPACE_RECORD_LABELS else ns
        return (user is not None and user in memory) or any(memory[: len(t)] == t for t in targets)

    doomed = [ns for ns in owned if chosen(ns)]
    memory_namespaces = {ns for ns in doomed if ns and ns[0] not in NAMESPACE_RECORD_LABELS}
    # The threads with anything in their inbox: the listing names them, so no other
    # thread's inbox is read.
    waiting = {ns[1] for ns in owned if len(ns) == 2 and ns[0] == INBOX_LABEL}
    erased = Erased(namespaces=doomed)
    threads = yield from _pages(
        "threads.search", (), {"metadata": {"graph_id": graph_id}}, RUNS_PAGE
    )
    for thread in threads:
        tid = str(thread["thread_id"])
        fed = everything or (yield from _fed(thread, tid, memory_namespaces, tid in waiting))
        if fed:
            erased.items += yield from _erase_thread(tid)
            erased.threads.append(tid)
    for ns in doomed:
        # Not a use: the server would record one for each memory read, under the user's
        # prefix, after the listing above (so nothing would erase it).
        for item in (yield from Flows.read_all(ns, {NOT_A_USE_HEADER: "1"})):
            if _unprefixed(tuple(item["namespace"]), prefix) == ns:
                yield Call("store.delete_item", (ns, item["key"]))
                erased.items += 1
    return erased


def _whoami() -> Flow[tuple[str | None, tuple[str, ...]]]:
    """The caller's identity and store prefix; none on a server without the route."""
    try:
        who = yield Call("http.get", (WHOAMI_PATH,))
    except Exception as err:
        if not not_found(err):
            raise
        return None, ()
    return who.get("identity"), tuple(who.get("prefix") or ())


def _unprefixed(namespace: Sequence[str], prefix: tuple[str, ...]) -> tuple[str, ...]:
    ns = tuple(namespace)
    return ns[len(prefix) :] if ns[: len(prefix)] == prefix else ns


def _fed(
    thread: Mapping[str, Any],
    thread_id: str,
    memory_namespaces: set[tuple[str, ...]],
    has_inbox: bool,
) -> Flow[bool]:
    """Whether the thread's last run wrote to, or its inbox waits for, one of the namespaces."""
    written = (thread.get("values") or {}).get("namespaces") or []
    if any(tuple(ns) in memory_namespaces for ns in written):
        return True
    if not has_inbox:
        return False
    inbox = yield from Flows.read_all(inbox_namespace(thread_id))
    return any(tuple(i["value"].get("namespace") or ()) in memory_namespaces for i in inbox)


def _erase_thread(thread_id: str) -> Flow[int]:
    """Cancel the thread's runs, delete its records, then the thread; how many records."""
    yield from Flows.cancel_runs(thread_id)
    count = 0
    for namespace in thread_records(thread_id):
        for item in (yield from Flows.read_all(namespace)):
            yield Call("store.delete_item", (namespace, item["key"]))
            count += 1
    try:
        yield Call("threads.delete", (thread_id,))
    except Exception as err:
        if not not_found(err):
            raise
    return count
