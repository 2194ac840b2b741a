"""Sync and async executors behave the same: same requests, same Futures, same answers.

``test_parity.py`` keeps their signatures equal; this keeps what they do
equal. One scripted server (an ``httpx.MockTransport`` handler) answers both
executors through the same story: a submission accepted and processed, one
superseded by a newer one, one enqueued behind a running run (cancelling our
pending one), one whose run another client superseded (followed), one the
server lost, one whose run failed, one cancelled, two the server refused, and the failed one run again (retry).
Each thread's requests, in order, and every Future's outcome must be equal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sdk_client import (
    AsyncReflectionExecutor,
    ReflectionExecutor,
    RetryPolicy,
    SubmissionFuture,
    ThreadStatus,
)
from sdk_client.contract import META_PATH, validate_thread_id
from sdk_client.records import INBOX_LABEL, RECEIPTS_LABEL

FAST = RetryPolicy(max_attempts=2, initial_delay=0, jitter=0)
SETTLE = 5.0  # seconds a Future may take to resolve; each takes a few polls of 20 ms
CREATED_AT = "2030-01-01T00:00:00+00:00"
# How each thread's runs behave on the scripted server (see ScriptedServer).
MODES = {
    "processed": "process",
    "superseded": "process",
    "enqueued": "first-runs",
    "followed": "superseded-by-another-client",
    "lost": "lost",
    "failed": "error",
    "cancelled": "process",
    "refused-inbox": "refuse-inbox",
    "refused-run": "refuse-run",
}
NAMES = {validate_thread_id(name): name for name in MODES}


class ScriptedServer:
    """Just enough of a LangGraph server's store and runs, with one behaviour per thread.

    It records every request by thread, with the ids that differ between two
    runs of the story (thread UUIDs, submission ids, times) replaced by names.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: dict[str, list[Any]] = defaultdict(list)
        self.labels: dict[str, str] = dict(NAMES)
        self.store: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        self.runs: dict[str, list[str]] = defaultdict(list)
        self.followed: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == META_PATH:  # a plain LangGraph server: none of our features
            return httpx.Response(404, json={"detail": "Not Found"})
        body = json.loads(request.content) if request.content else None
        with self.lock:
            name = self._thread_of(request, body)
            self.log[name].append(self._scrub(request, body))
            status, answer = self._answer(request, body, name, MODES[name])
        return httpx.Response(status, json=answer) if answer is not None else httpx.Response(status)

    # ------------------------------------------------------------------ answers

    def _answer(self, request: httpx.Request, body: Any, name: str, mode: str) -> tuple[int, Any]:
        method, path = request.method, request.url.path
        if path == "/store/items":
            return self._item(method, body, mode)
        if path == "/store/items/search":
            return 200, {"items": self._search(tuple(body["namespace_prefix"]), name, mode)}
        parts = path.split("/")  # /threads/{tid}/runs[/{rid}[/cancel]]
        if len(parts) == 4 and method == "POST":
            return self._create(name, mode)
        if len(parts) == 4:
            return self._list(name, mode, request.url.params)
        if len(parts) == 6:
            return 200, {}  # cancel
        return self._get(name, mode, parts[4])

    def _item(self, method: str, body: Any, mode: str) -> tuple[int, Any]:
        namespace = tuple(body["namespace"])
        if method == "PUT":
            if mode == "refuse-inbox":
                return 503, {"detail": "overloaded"}
            self.store[namespace][body["key"]] = body["value"]
        else:
            self.store[namespace].pop(body["key"], None)
        return 204, None

    def _search(self, namespace: tuple[str, ...], name: str, mode: str) -> list[dict[str, Any]]:
        tid = namespace[1]
        if namespace[0] == RECEIPTS_LABEL and self._processes(name, mode):
            self._process(tid, "their-run" if name in self.followed else self.runs[name][-1])
        if mode == "lost":
            self.store[(INBOX_LABEL, tid)].clear()  # a dev server restarted without it
        items = self.store[namespace].items()
        return [{"key": k, "namespace": list(namespace), "value": v} for k, v in items]

    def _processes(self, name: str, mode: str) -> bool:
        if mode == "superseded-by-another-client":
            return name in self.followed
        return mode in ("process", "first-runs")

    def _process(self, tid: str, run_id: str) -> None:
        """The run commits: every submission in the inbox gets a receipt; the inbox empties."""
        inbox = self.store.pop((INBOX_LABEL, tid), {})
        for entry in inbox.values():
            for record in entry["submissions"]:
                sid = record["submission_id"]
                receipt = {"submission_id": sid, "run_id": run_id, "message_ids": ["m"]}
                self.store[(RECEIPTS_LABEL, tid)][sid] = receipt

    def _create(self, name: str, mode: str) -> tuple[int, Any]:
        if mode == "refuse-run":
            return 422, {"detail": "no such assistant"}
        self.runs[name].append(f"run-{len(self.runs[name]) + 1}")
        return 200, {"run_id": self.runs[name][-1], "status": "pending"}

    def _get(self, name: str, mode: str, run_id: str) -> tuple[int, Any]:
        if mode in ("lost", "superseded-by-another-client") and run_id != "their-run":
            return 404, {"detail": "not found"}
        if mode == "error":
            return 200, {"run_id": run_id, "status": "error"}
        running = mode == "first-runs" and run_id == "run-1"
        return 200, {"run_id": run_id, "status": "running" if running else "pending"}

    def _list(self, name: str, mode: str, params: httpx.QueryParams) -> tuple[int, Any]:
        if mode == "superseded-by-another-client" and params.get("limit") == "1":
            self.followed.add(name)
            return 200, [{"run_id": "their-run", "status": "running"}]
        if mode == "lost":
            return 404, {"detail": "thread not found"}
        if params.get("status") != "pending" or not self.runs[name]:
            return 200, []
        run = {"run_id": self.runs[name][-1], "status": "pending", "created_at": CREATED_AT}
        return 200, [run]

    # ------------------------------------------------------------------ the log

    def _thread_of(self, request: httpx.Request, body: Any) -> str:
        if request.url.path.startswith("/threads/"):
            return NAMES[request.url.path.split("/")[2]]
        return NAMES[(body.get("namespace") or body.get("namespace_prefix"))[1]]

    def _scrub(self, request: httpx.Request, body: Any) -> tuple[str, str, list[Any], Any]:
        if request.method == "PUT":  # name the submissions in the order they first arrive
            for record in body["value"]["submissions"]:
                self.labels.setdefault(record["submission_id"], f"sub-{len(self.labels)}")
        path = "/".join(self.labels.get(p, p) for p in request.url.path.split("/"))
        params = sorted(request.url.params.multi_items())
        return (request.method, path, params, self._names(body))

    def _names(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: round(v) if k == "after_seconds" else self._names(v)
                for k, v in value.items()
                if k != "submitted_at"
            }
        if isinstance(value, list):
            return [self._names(v) for v in value]
        if isinstance(value, str):
            return self.labels.get(value, value)
        return value


# --------------------------------------------------------------------- the story


@dataclass(frozen=True)
class Submit:
    """``executor.submit(...)`` on ``thread``; the answer is the Future."""

    thread: str
    after: float = 0.0


@dataclass(frozen=True)
class Accepted:
    """Wait until ``fut`` is accepted (or refused)."""

    fut: SubmissionFuture


@dataclass(frozen=True)
class Settled:
    """Wait until ``fut`` is resolved."""

    fut: SubmissionFuture


@dataclass(frozen=True)
class Status:
    """``executor.status(thread)``; the answer is the ThreadStatus."""

    thread: str


@dataclass(frozen=True)
class Cancel:
    """``executor.cancel(thread)``; the answer is how many were cancelled."""

    thread: str


@dataclass(frozen=True)
class Retry:
    """``executor.retry(thread)``; the answer is whether a run was created."""

    thread: str


Act = Submit | Accepted | Settled | Status | Cancel | Retry


def story() -> Generator[Act, Any, dict[str, Any]]:
    """What the test does to an executor, written once; returns the outcomes by name."""
    out: dict[str, Any] = {}
    for name in ("processed", "followed", "lost", "failed", "refused-inbox", "refused-run"):
        fut = yield Submit(name)
        yield Settled(fut)
        out[name] = fut
    first = yield Submit("superseded", after=60)
    yield Accepted(first)
    newer = yield Submit("superseded")
    yield Settled(newer)
    yield Settled(first)
    out["superseded"] = (first, newer)
    running = yield Submit("enqueued", after=5)  # run-1: the server says it is running
    yield Accepted(running)
    queued = yield Submit("enqueued", after=4)  # run-2, queued behind it
    yield Accepted(queued)
    last = yield Submit("enqueued")  # run-3: run-2 cancelled, queued behind run-1
    for fut in (running, queued, last):
        yield Settled(fut)
    out["enqueued"] = (running, queued, last)
    fut = yield Submit("cancelled", after=60)
    yield Accepted(fut)
    out["status"] = yield Status("cancelled")
    out["cancel"] = yield Cancel("cancelled")
    yield Settled(fut)
    out["cancelled"] = fut
    out["retry"] = yield Retry("failed")  # run the failed thread's work again
    return out


def outcome(value: Any) -> Any:
    """A Future as what a caller sees of it; anything else as it is."""
    if isinstance(value, tuple):
        return tuple(outcome(v) for v in value)
    if not isinstance(value, SubmissionFuture):
        return value
    if not value.done():  # a drifted executor may never resolve it: show that, do not hang
        return (value.stage.value, value.run_id, "unresolved", None)
    exc = value.exception(timeout=0)
    result = None if exc is not None else value.result(timeout=0).run_id
    return (value.stage.value, value.run_id, type(exc).__name__ if exc else None, result)


def executor_args(server: ScriptedServer) -> dict[str, Any]:
    return {
        "url": "http://test",
        "transport": httpx.MockTransport(server),
        "retry": FAST,
        "poll_interval": 0.02,
        "sender_threads": 1,
        "api_key": None,
    }


def play_sync(server: ScriptedServer) -> dict[str, Any]:
    with ReflectionExecutor("memory_manager", ("memories",), **executor_args(server)) as ex:
        acts = story()
        answer: Any = None
        try:
            while True:
                answer = act_sync(ex, acts.send(answer))
        except StopIteration as done:
            return {k: outcome(v) for k, v in done.value.items()}


def act_sync(ex: ReflectionExecutor, act: Act) -> Any:
    if isinstance(act, Submit):
        return ex.submit(message(act.thread), thread_id=act.thread, after_seconds=act.after)
    if isinstance(act, Accepted):
        return act.fut.wait_accepted(10)
    if isinstance(act, Settled):
        return concurrent.futures.wait([act.fut], timeout=SETTLE)
    if isinstance(act, Status):
        return ex.status(act.thread)
    if isinstance(act, Retry):
        return ex.retry(act.thread)
    return ex.cancel(act.thread)


async def play_async(server: ScriptedServer) -> dict[str, Any]:
    async with AsyncReflectionExecutor(
        "memory_manager", ("memories",), **executor_args(server)
    ) as ex:
        acts = story()
        answer: Any = None
        try:
            while True:
                answer = await act_async(ex, acts.send(answer))
        except StopIteration as done:
            return {k: outcome(v) for k, v in done.value.items()}


async def act_async(ex: AsyncReflectionExecutor, act: Act) -> Any:
    if isinstance(act, Submit):
        return ex.submit(message(act.thread), thread_id=act.thread, after_seconds=act.after)
    if isinstance(act, Accepted):
        return await act.fut.wait_accepted_async(10)
    if isinstance(act, Settled):
        return await asyncio.wait([asyncio.wrap_future(act.fut)], timeout=SETTLE)
    if isinstance(act, Status):
        return await ex.status(act.thread)
    if isinstance(act, Retry):
        return await ex.retry(act.thread)
    return await ex.cancel(act.thread)


def message(thread: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"A turn on {thread}."}]}


@pytest.fixture
def runs_may_start_early(monkeypatch):
    # A run due within 10 s may be running: the "enqueued" thread's first run is
    # asked about at once, yet is not due for the watcher before the story goes on.
    monkeypatch.setattr("sdk_client._ledger.STARTED_MARGIN", 10.0)


@pytest.mark.usefixtures("runs_may_start_early")
def test_both_executors_send_the_same_requests_and_resolve_the_same_futures():
    sync_server, async_server = ScriptedServer(), ScriptedServer()
    sync_out = play_sync(sync_server)
    async_out = asyncio.run(play_async(async_server))

    for name in MODES:
        assert async_server.log[name] == sync_server.log[name], f"requests on {name!r} differ"
    assert async_out == sync_out
    # ... and that shared behaviour is the one intended:
    assert sync_out["processed"] == ("processed", "run-1", None, "run-1")
    assert sync_out["superseded"] == (
        ("processed", "run-1", None, "run-2"),
        ("processed", "run-2", None, "run-2"),
    )
    assert sync_out["enqueued"][2] == ("processed", "run-3", None, "run-3")
    assert sync_out["followed"] == ("processed", "run-1", None, "their-run")
    assert sync_out["lost"] == ("failed", "run-1", "SubmissionLostError", None)
    assert sync_out["failed"] == ("failed", "run-1", "ProcessingFailedError", None)
    assert sync_out["refused-inbox"] == ("failed", None, "NotAcceptedError", None)
    assert sync_out["refused-run"] == ("failed", None, "NotAcceptedError", None)
    assert sync_out["cancelled"] == ("cancelled", "run-1", "SubmissionCancelledError", None)
    assert sync_out["cancel"] == 1
    assert sync_out["retry"] is True
    assert [(m, path) for m, path, _, _ in sync_server.log["failed"][-2:]] == [
        ("DELETE", "/store/items"),
        ("POST", "/threads/failed/runs"),
    ]
    assert isinstance(sync_out["status"], ThreadStatus) and sync_out["status"].state == "pending"
    posts = [
        (path, body) for method, path, _, body in sync_server.log["enqueued"] if method == "POST"
    ]
    strategies = [body["multitask_strategy"] for path, body in posts if path.endswith("/runs")]
    assert strategies == ["rollback", "enqueue", "enqueue"]
    assert [path for path, _ in posts if path.endswith("/cancel")] == [
        "/threads/enqueued/runs/run-2/cancel"
    ]
