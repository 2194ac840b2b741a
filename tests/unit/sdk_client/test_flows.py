"""The executor's decisions on their own: scripted answers in, requests and Future outcomes out.

Each flow is stepped by hand: every request it yields is checked against the
script, which then answers it (a value, or an exception thrown in at the
``yield``). No client, no thread, no event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from sdk_client import _flows, records
from sdk_client._flows import (
    Call,
    Flow,
    Flows,
    ServerFeatures,
    Sleep,
    WaitForFuture,
    delivery_of,
    missing,
    not_found,
    run_async,
    run_sync,
    thread_status,
)
from sdk_client._http import RetryPolicy
from sdk_client._ledger import STARTED_MARGIN, Ledger, RunPlan
from sdk_client._submission import Submission, build_submission, coalesce
from sdk_client.contract import validate_thread_id
from sdk_client.errors import (
    AcceptTimeoutError,
    ConsolidationError,
    FlushTimeoutError,
    HistoryNotFoundError,
    InvalidPayloadError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
    SubmissionLostError,
)
from sdk_client.records import delivery_namespace, inbox_namespace, receipts_namespace
from sdk_client.types import Delivery, Stage, SubmissionFuture

PAYLOAD = {"messages": [{"role": "user", "content": "I love tea."}]}
NOW = 1_000_000.0


class ServerSays(Exception):
    """An HTTP error answer, as langgraph-sdk raises it (it carries ``status_code``)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


GONE = ServerSays(404)


def play(flow: Flow[Any], script: list[tuple[Any, Any]]) -> Any:
    """Step ``flow`` through ``script``: (expected step, answer) pairs; return its result.

    An answer that is an exception is thrown into the flow. The flow must ask
    exactly what the script says, in order, and then end.
    """
    asked: list[Any] = []
    try:
        step = next(flow)
        for expected, answer in script:
            asked.append(step)
            assert step == expected, f"step {len(asked)}: {step} != {expected}"
            step = flow.throw(answer) if isinstance(answer, Exception) else flow.send(answer)
        raise AssertionError(f"the flow asked more than scripted: {step}")
    except StopIteration as done:
        assert len(asked) == len(script), f"the flow ended after {asked}"
        return done.value


class Setup:
    """A Ledger, flows over it on a fixed clock, and helpers to submit and accept."""

    def __init__(
        self, retry: RetryPolicy | None = None, *, capture: bool = False, redelivery: bool = False
    ) -> None:
        self.now = NOW
        self.ledger = Ledger()
        self.flows = Flows(
            self.ledger,
            retry or RetryPolicy(max_attempts=2, initial_delay=0, jitter=0),
            reflector="memory_manager",
            namespace=("memories",),
            url="http://test",
            clock=lambda: self.now,
            # A plain server unless asked: what GET /reflect/meta found (see test_features_*).
            features=ServerFeatures(known=True, capture=capture, redelivery=redelivery),
        )

    def submit(self, after: float = 0.0) -> tuple[Submission, SubmissionFuture]:
        sub = build_submission(
            PAYLOAD, ("memories",), config=None, after_seconds=after, thread_id="t"
        )
        sub = Submission(**{**sub.__dict__, "submitted_at": self.now})
        return sub, self.ledger.add(sub)

    def accept(self, run_id: str, after: float = 0.0) -> tuple[Submission, SubmissionFuture]:
        sub, fut = self.submit(after)
        self.ledger.accepted(sub.thread_id, run_id, [sub], due_at=sub.due_at)
        return sub, fut


def put(sub: Submission, *subs: Submission) -> Call:
    entry = {"namespace": ["memories"], "submissions": [s.record() for s in (sub, *subs)]}
    return Call(
        "store.put_item",
        (inbox_namespace(sub.thread_id), (sub, *subs)[-1].submission_id, entry),
        {"index": False},
    )


def create(sub: Submission, strategy: str = "rollback", after: float = 0.0) -> Call:
    return Call(
        "runs.create",
        (sub.thread_id, "memory_manager"),
        {
            "input": {"messages": sub.messages, "submission_id": sub.submission_id},
            "config": {"configurable": {"thread_id": sub.thread_id, "namespace": ["memories"]}},
            "multitask_strategy": strategy,
            "after_seconds": after,
            "if_not_exists": "create",
        },
    )


def search(namespace: tuple[str, ...], offset: int = 0) -> Call:
    """The first (or a later) page of a namespace the flows read to the end."""
    return Call("store.search_items", (namespace,), {"limit": _flows.STORE_PAGE, "offset": offset})


def runs(tid: str, status: str, offset: int = 0) -> Call:
    """A page of the thread's runs in ``status``."""
    return Call(
        "runs.list", (tid,), {"status": status, "limit": _flows.RUNS_PAGE, "offset": offset}
    )


def receipt(sub: Submission, run_id: str) -> dict[str, Any]:
    return {
        "key": sub.submission_id,
        "value": {"submission_id": sub.submission_id, "run_id": run_id},
    }


def send_flow(s: Setup, sub: Submission) -> Flow[bool]:
    [(req, subs)] = s.ledger.requests([sub])
    return s.flows.send(req, subs)


# ----------------------------------------------------------------------- send


def test_send_writes_the_inbox_then_creates_the_run():
    s = Setup()
    sub, fut = s.submit()
    assert play(send_flow(s, sub), [(put(sub), None), (create(sub), {"run_id": "run-1"})])
    assert (fut.stage, fut.run_id) == (Stage.ACCEPTED, "run-1")


def test_send_retries_the_inbox_write_then_gives_up():
    s = Setup()
    sub, fut = s.submit()
    script = [(put(sub), ServerSays(503)), (Sleep(0.0), None), (put(sub), ServerSays(503))]
    assert play(send_flow(s, sub), script) is False
    with pytest.raises(NotAcceptedError, match="writing the inbox failed after retries"):
        fut.result(timeout=0)


def test_a_refused_run_takes_the_inbox_entry_back(caplog):
    s = Setup()
    sub, fut = s.submit()
    take_back = Call("store.delete_item", (inbox_namespace(sub.thread_id), sub.submission_id))
    script = [(put(sub), None), (create(sub), ServerSays(422)), (take_back, ServerSays(500))]
    with caplog.at_level(logging.WARNING, "sdk_client"):
        assert play(send_flow(s, sub), script) is False
    assert "could not remove inbox entry" in caplog.text
    with pytest.raises(NotAcceptedError, match="creating the run failed") as info:
        fut.result(timeout=0)
    assert isinstance(info.value.__cause__, ServerSays)


def test_send_never_supersedes_a_running_run():
    s = Setup()
    first, f1 = s.accept("run-1")  # due now: it may be running
    tid = first.thread_id
    queued, f2 = s.submit(after=60)
    enqueued = RunPlan("enqueue", running=("run-1",))
    s.ledger.accepted(tid, "run-2", [queued], due_at=NOW + 60, plan=enqueued)
    sub, fut = s.submit()
    s.now = NOW + 60 - STARTED_MARGIN  # run-2 may have started too: ask about both
    script = [
        (put(sub), None),
        (Call("runs.get", (tid, "run-1")), {"status": "running"}),
        (Call("runs.get", (tid, "run-2")), {"status": "pending"}),
        (Call("runs.cancel", (tid, "run-2"), {"action": "rollback"}), GONE),  # started meanwhile
        (create(sub, "enqueue"), {"run_id": "run-3"}),
    ]
    assert play(send_flow(s, sub), script)
    assert (f1.run_id, f2.run_id, fut.run_id) == ("run-1", "run-2", "run-3")
    assert s.ledger.may_be_running(tid, NOW + 60) == ["run-1", "run-3"]


def test_send_asks_nothing_while_none_of_our_runs_may_have_started():
    s = Setup()
    s.accept("run-1", after=60)
    sub, _ = s.submit()
    script = [(put(sub), None), (create(sub), {"run_id": "run-2"})]  # plain rollback
    assert play(send_flow(s, sub), script)


# ---------------------------------------------------------------------- watch


def test_receipts_resolve_their_futures_and_are_deleted():
    s = Setup()
    sub, fut = s.accept("run-1")
    script = [
        (search(receipts_namespace(sub.thread_id)), {"items": [receipt(sub, "run-1")]}),
        (Call("store.delete_item", (receipts_namespace(sub.thread_id), sub.submission_id)), GONE),
    ]
    assert play(s.flows.watch(), script) is False  # not closed: not drained
    assert fut.result(timeout=0).run_id == "run-1" and fut.stage is Stage.PROCESSED


def test_a_superseding_run_is_followed_until_it_leaves_the_receipt():
    s = Setup()
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    play(
        s.flows.watch(),
        [
            (search(receipts_namespace(tid)), {"items": []}),
            (Call("runs.get", (tid, "run-1")), GONE),  # deleted: superseded by another client
            (Call("runs.list", (tid,), {"limit": 1}), [{"run_id": "theirs"}]),
        ],
    )
    assert not fut.done() and s.ledger.unprocessed(tid) == ("theirs", [sub.submission_id])
    play(
        s.flows.watch(),
        [
            (search(receipts_namespace(tid)), {"items": []}),
            (Call("runs.get", (tid, "theirs")), {"status": "running"}),
        ],
    )
    assert not fut.done()
    delete = Call("store.delete_item", (receipts_namespace(tid), sub.submission_id))
    play(
        s.flows.watch(),
        [(search(receipts_namespace(tid)), {"items": [receipt(sub, "theirs")]}), (delete, None)],
    )
    assert fut.result(timeout=0).run_id == "theirs"


@pytest.mark.parametrize(
    ("run", "latest"),
    [(GONE, []), (GONE, GONE), (GONE, [{"run_id": "run-1"}]), ({"status": "success"}, None)],
)
def test_a_run_gone_or_done_without_a_receipt_lost_what_the_server_no_longer_holds(run, latest):
    s = Setup()
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    script = [
        (search(receipts_namespace(tid)), {"items": []}),
        (Call("runs.get", (tid, "run-1")), run),
    ]
    if latest is not None:
        script.append((Call("runs.list", (tid,), {"limit": 1}), latest))
    script += [
        (search(inbox_namespace(tid)), {"items": []}),
        (search(receipts_namespace(tid)), {"items": []}),
    ]
    play(s.flows.watch(), script)
    with pytest.raises(SubmissionLostError) as info:
        fut.result(timeout=0)
    assert info.value.run_id == "run-1"


def test_what_the_inbox_still_holds_is_not_lost():
    s = Setup()
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    held = {"key": "k", "value": {"submissions": [{"submission_id": sub.submission_id}]}}
    script = [
        (search(receipts_namespace(tid)), {"items": []}),
        (Call("runs.get", (tid, "run-1")), {"status": "success"}),
        (search(inbox_namespace(tid)), {"items": [held]}),
        (search(receipts_namespace(tid)), {"items": []}),
    ]
    play(s.flows.watch(), script)
    assert not fut.done() and fut.stage is Stage.ACCEPTED


@pytest.mark.parametrize("status", ["error", "timeout", "interrupted"])
def test_a_failed_run_fails_its_futures(status):
    s = Setup()
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    script = [
        (search(receipts_namespace(tid)), {"items": []}),
        (Call("runs.get", (tid, "run-1")), {"status": status}),
    ]
    if status == "interrupted":  # interrupted by a newer run? None newer than ours here
        script.append((Call("runs.list", (tid,), {"limit": 1}), [{"run_id": "run-1"}]))
    play(s.flows.watch(), script)
    with pytest.raises(ProcessingFailedError, match=f"status '{status}'"):
        fut.result(timeout=0)


def test_a_thread_that_cannot_be_read_waits_for_the_next_poll():
    s = Setup()
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    script = [(search(receipts_namespace(tid)), httpx.ConnectError("restarting"))]
    assert play(s.flows.watch(), script) is False
    assert not fut.done()
    s.ledger.close(cancel_futures=False)
    s.ledger.cancel_thread(tid, "t")
    assert play(s.flows.watch(), []) is True  # closed and nothing left: the watcher may stop


def test_nothing_is_asked_about_a_thread_before_its_run_is_due():
    s = Setup()
    s.accept("run-1", after=60)
    assert play(s.flows.watch(), []) is False


# ------------------------------------------------------------------ inspection


def test_status_reads_the_runs_then_the_inbox():
    s = Setup()
    tid = s.submit()[0].thread_id
    pending = {"run_id": "r", "status": "pending", "created_at": "2026-01-01T00:00:10+00:00"}
    script = [
        (runs(tid, "running"), []),
        (runs(tid, "pending"), [pending]),
        (search(inbox_namespace(tid)), {"items": [{"value": {"submissions": [{}, {}]}}]}),
    ]
    got = play(s.flows.status("t"), script)
    assert (got.state, got.run_id, got.inbox) == ("pending", "r", 2)
    script = [
        (runs(tid, "running"), GONE),
        (search(inbox_namespace(tid)), {"items": []}),
    ]
    assert play(s.flows.status("t"), script).state == "idle"


def test_status_and_cancel_read_every_page_of_runs_and_inbox(monkeypatch):
    monkeypatch.setattr("sdk_client._flows.STORE_PAGE", 2)
    monkeypatch.setattr("sdk_client._flows.RUNS_PAGE", 2)
    s = Setup()
    tid = s.submit()[0].thread_id
    running = [{"run_id": f"r{i}", "status": "running"} for i in range(3)]
    held = [{"key": f"k{i}", "value": {"submissions": [{}]}} for i in range(5)]
    pages = [
        (runs(tid, "running"), running[:2]),
        (runs(tid, "running", 2), running[2:]),
        (runs(tid, "pending"), []),
        (search(inbox_namespace(tid)), {"items": held[:2]}),
        (search(inbox_namespace(tid), 2), {"items": held[2:4]}),
        (search(inbox_namespace(tid), 4), {"items": held[4:]}),
    ]
    got = play(s.flows.status("t"), pages)
    assert (got.state, got.inbox) == ("running", 5)
    cancels = [
        (Call("runs.cancel", (tid, r["run_id"]), {"action": "rollback"}), None) for r in running
    ]
    deletes = [(Call("store.delete_item", (inbox_namespace(tid), i["key"])), None) for i in held]
    script = [*pages[:3], *cancels, *pages[3:], *deletes]
    assert play(s.flows.cancel("t"), script) == 1


def test_the_watcher_reads_every_page_of_receipts(monkeypatch):
    monkeypatch.setattr("sdk_client._flows.STORE_PAGE", 1)
    s = Setup()
    first, fut1 = s.accept("run-1")
    second, fut2 = s.accept("run-1")
    tid = first.thread_id
    script = [
        (search(receipts_namespace(tid)), {"items": [receipt(first, "run-1")]}),
        (search(receipts_namespace(tid), 1), {"items": [receipt(second, "run-1")]}),
        (search(receipts_namespace(tid), 2), {"items": []}),
        (Call("store.delete_item", (receipts_namespace(tid), first.submission_id)), None),
        (Call("store.delete_item", (receipts_namespace(tid), second.submission_id)), None),
    ]
    play(s.flows.watch(), script)
    assert fut1.result(timeout=0).run_id == fut2.result(timeout=0).run_id == "run-1"


def test_a_bad_thread_is_refused_before_any_request():
    s = Setup()
    with pytest.raises(InvalidPayloadError, match="thread_id"):
        s.flows.status("")
    with pytest.raises(InvalidPayloadError, match="thread_id"):
        s.flows.cancel(3.5)
    with pytest.raises(InvalidPayloadError, match="namespace"):
        s.flows.search(None, None, 10, 0, ["a.b"])


def test_cancel_cancels_runs_empties_the_inbox_and_cancels_our_futures():
    s = Setup()
    sub, accepted = s.accept("run-1", after=60)
    _, unsent = s.submit()
    tid = sub.thread_id
    script = [
        (runs(tid, "running"), []),
        (runs(tid, "pending"), [{"run_id": "run-1"}]),
        (Call("runs.cancel", (tid, "run-1"), {"action": "rollback"}), GONE),  # finished meanwhile
        (search(inbox_namespace(tid)), {"items": [{"key": "k1"}, {"key": "k2"}]}),
        (Call("store.delete_item", (inbox_namespace(tid), "k1")), None),
        (Call("store.delete_item", (inbox_namespace(tid), "k2")), None),
    ]
    assert play(s.flows.cancel("t"), script) == 2
    for fut in (accepted, unsent):
        assert fut.stage is Stage.CANCELLED
        with pytest.raises(SubmissionCancelledError, match="cancel\\('t'\\)"):
            fut.result(timeout=0)


def test_search_reads_the_executors_namespace_by_default():
    s = Setup()
    call = Call(
        "store.search_items",
        (("memories",),),
        {"query": "tea", "filter": None, "limit": 5, "offset": 0},
    )
    item = {"key": "k", "namespace": ["memories"], "value": {}}
    got = play(s.flows.search("tea", None, 5, 0, None), [(call, {"items": [item]})])
    assert got == [{**item, "namespace": ("memories",)}]


# --------------------------------------------------------------------- waiting


def test_flush_waits_for_each_future_and_names_the_first_late_one():
    s = Setup()
    _, f1 = s.submit()
    _, f2 = s.submit()
    assert (
        play(
            s.flows.flush(None),
            [
                (WaitForFuture(f1, None, "resolved"), True),
                (WaitForFuture(f2, None, "resolved"), True),
            ],
        )
        is None
    )
    flow = s.flows.flush(None)
    assert next(flow) == WaitForFuture(f1, None, "resolved")
    with pytest.raises(FlushTimeoutError, match=f"{f1.submission_id} not processed within None"):
        flow.send(False)


def test_wait_accepted_shares_one_deadline():
    s = Setup()
    _, f1 = s.submit()
    _, f2 = s.submit()
    flow = s.flows.wait_accepted(5.0)
    first = next(flow)
    assert (first.future, first.until) == (f1, "accepted") and 4.0 < first.timeout <= 5.0
    second = flow.send(None)
    assert second.future is f2 and second.timeout <= first.timeout


# --------------------------------------------------------------------- drivers


def test_the_driver_throws_failures_into_the_flow_and_returns_its_result():
    def flow() -> Flow[str]:
        try:
            yield Call("runs.get", ("t", "r"))
        except AttributeError as err:
            return f"caught {type(err).__name__}"
        return "no error"

    class Runs:
        pass

    class Client:
        runs = Runs()

    assert run_sync(flow(), Client()) == "caught AttributeError"
    with pytest.raises(TypeError, match="without a client"):
        run_sync(Flows.latest_run("t"))


# ------------------------------------------------- a server with capture and redelivery

META = {"graph_id": "memory_manager", "capture": True, "redelivery": {"attempts": 5}}


def test_features_are_asked_once_and_a_plain_server_has_none():
    s = Setup()
    s.flows.features.known = False
    meta = Call("http.get", ("/reflect/meta",))
    found = play(s.flows.server_features(), [(meta, META)])
    assert (found.capture, found.redelivery) == (True, True)
    assert play(s.flows.server_features(), []) is found  # asked once
    plain = Setup()
    plain.flows.features.known = False
    found = play(plain.flows.server_features(), [(meta, GONE)])
    assert (found.known, found.capture, found.redelivery) == (True, False, False)


def test_on_a_capturing_server_one_submission_is_one_request():
    s = Setup(capture=True)
    sub, fut = s.submit()
    assert play(send_flow(s, sub), [(create(sub), {"run_id": "run-1"})])
    assert (fut.stage, fut.run_id) == (Stage.ACCEPTED, "run-1")
    s = Setup(capture=True)
    refused, fut2 = s.submit()
    # The server takes back what it captured: nothing to delete here.
    assert not play(send_flow(s, refused), [(create(refused), ServerSays(422))])
    with pytest.raises(NotAcceptedError, match="creating the run"):
        fut2.result(timeout=0)


def test_on_a_capturing_server_a_coalesced_group_still_writes_its_entry():
    s = Setup(capture=True)
    first, _ = s.submit()
    second, _ = s.submit()
    [(req, subs)] = s.ledger.requests([first, second])
    assert play(s.flows.send(req, subs), [(put(first, second), None),
                                          (create(second), {"run_id": "run-1"})])  # fmt: skip


def _failed_run_script(tid: str, latest: str, record: Any) -> list[tuple[Any, Any]]:
    return [
        (search(receipts_namespace(tid)), {"items": []}),
        (Call("runs.get", (tid, "run-1")), {"status": "error"}),
        (Call("runs.list", (tid,), {"limit": 1}), [{"run_id": latest}]),
        *(
            [(Call("store.get_item", (("reflection_delivery", tid), "state")), record)]
            if latest == "run-1"
            else []
        ),
    ]


def test_a_failed_run_the_server_retries_leaves_the_future_waiting():
    s = Setup(redelivery=True)
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    record = {"value": {"attempts": 1, "max_attempts": 5, "next_at": NOW + 30, "parked": False,
                        "last_error": "run run-1 ended error"}}  # fmt: skip
    play(s.flows.watch(), _failed_run_script(tid, "run-1", record))
    assert not fut.done() and fut.stage is Stage.RETRYING
    assert fut.delivery is not None and fut.delivery.attempts == 1
    assert fut.delivery.describe().startswith("retrying, attempt 2 of 5, next at ")
    # The server's next attempt is the thread's newest run: followed, then its receipt.
    play(s.flows.watch(), _failed_run_script(tid, "run-2", None))
    receipt = {"key": sub.submission_id, "value": {"submission_id": sub.submission_id,
                                                   "run_id": "run-2", "message_ids": ["m"]}}  # fmt: skip
    play(s.flows.watch(), [(search(receipts_namespace(tid)), {"items": [receipt]}),
                           (Call("store.delete_item", (receipts_namespace(tid), sub.submission_id)), None)])  # fmt: skip
    assert fut.result(timeout=0).run_id == "run-2" and fut.stage is Stage.PROCESSED


def test_parked_work_fails_its_futures_saying_how_to_run_it_again():
    s = Setup(redelivery=True)
    sub, fut = s.accept("run-1")
    record = {"value": {"attempts": 5, "max_attempts": 5, "next_at": None, "parked": True,
                        "last_error": "run run-6 ended error: model down"}}  # fmt: skip
    play(s.flows.watch(), _failed_run_script(sub.thread_id, "run-1", record))
    with pytest.raises(ProcessingFailedError, match="parked after 5 attempts.*model down") as info:
        fut.result(timeout=0)
    err = info.value  # the caller learns which run failed, on which thread
    assert (err.run_id, err.thread_id, err.submission_id) == (
        "run-1",
        sub.thread_id,
        sub.submission_id,
    )


def test_restarting_redelivery_resets_the_count_and_creates_a_run_unless_one_is_on_its_way():
    s = Setup(redelivery=True)
    tid = validate_thread_id("t")
    reset = Call("store.delete_item", (("reflection_delivery", tid), "state"))
    run = Call("runs.create", (tid, "memory_manager"), {
        "input": {"messages": [], "redelivery": 1}, "multitask_strategy": "reject",
        "if_not_exists": "create"})  # fmt: skip
    assert play(s.flows.restart_redelivery("t"), [(reset, None), (run, {"run_id": "r"})]) is True
    assert play(s.flows.restart_redelivery("t"), [(reset, GONE), (run, ServerSays(409))]) is False
    down = httpx.ConnectError("connection refused")  # no answer, no status: raised as it is
    with pytest.raises(httpx.ConnectError):
        play(s.flows.restart_redelivery("t"), [(reset, None), (run, down)])


def test_status_shows_the_servers_redelivery():
    s = Setup(redelivery=True)
    tid = validate_thread_id("t")
    record = {"value": {"attempts": 5, "max_attempts": 5, "next_at": None, "parked": True,
                        "last_error": "boom"}}  # fmt: skip
    script = [
        (runs(tid, "running"), []),
        (runs(tid, "pending"), []),
        (search(inbox_namespace(tid)), {"items": [{"value": {"submissions": [{}, {}]}}]}),
        (Call("store.get_item", (("reflection_delivery", tid), "state")), record),
    ]
    status = play(s.flows.status("t"), script)
    assert (status.state, status.inbox) == ("idle", 2)
    assert (
        status.delivery is not None
        and status.delivery.describe() == "parked after 5 attempts: boom"
    )


# ------------------------------------------------------------- more that must hold


def test_on_a_keyed_server_every_thread_key_maps_through_the_key():
    s = Setup()
    flows = Flows(
        s.ledger,
        s.flows.retry,
        "memory_manager",
        ("memories",),
        "http://test",
        api_key="K" * 16,
        features=ServerFeatures(known=True),
    )
    tid = validate_thread_id("chat", api_key="K" * 16)
    for flow in (flows.status("chat"), flows.cancel("chat")):
        step = next(flow)
        assert (step.method, step.args) == ("runs.list", (tid,))
    assert next(flows.restart_redelivery("chat")).args[0] == delivery_namespace(tid)
    consolidation = validate_thread_id("memory-reflect:consolidate:memories", api_key="K" * 16)
    assert next(flows.consolidate(None, None)).args[0] == consolidation


def test_send_records_when_the_run_falls_due():
    s = Setup()
    sub, _ = s.submit(after=60)
    [req] = coalesce([sub], now=s.now)  # the sender's clock is the flows' here
    flow = s.flows.send(req, [sub])
    assert play(flow, [(put(sub), None), (create(sub, after=60), {"run_id": "r1"})])
    assert s.ledger.due_threads(NOW + 59) == [] and s.ledger.due_threads(NOW + 60) == [
        sub.thread_id
    ]
    assert s.ledger.may_be_running(sub.thread_id, NOW + 59) == []


def test_a_flush_past_its_deadline_waits_no_longer():
    s = Setup()
    _, fut = s.submit()
    flow = s.flows.flush(0.0)
    step = next(flow)
    assert (step.future, step.timeout, step.until) == (fut, 0.0, "resolved")
    with pytest.raises(
        FlushTimeoutError, match=r"not processed within 0.0 s \(stage: handed_over\)"
    ):
        flow.send(False)


def waits(until: str, timeout: float | None) -> Flow[list[Any]]:
    def flow() -> Flow[list[Any]]:
        fut = SubmissionFuture("s", "t")
        early = yield WaitForFuture(fut, timeout, until)  # type: ignore[arg-type]
        fut._mark_accepted("r")
        fut._mark_processed(None)  # type: ignore[arg-type]
        late = yield WaitForFuture(fut, timeout, until)  # type: ignore[arg-type]
        return [early, late]

    return flow()


def test_the_drivers_wait_for_futures_as_the_flow_asks():
    assert run_sync(waits("resolved", 0.01)) == [False, True]
    assert asyncio.run(run_async(waits("resolved", 0.01))) == [False, True]
    # AcceptTimeoutError: a FlushTimeoutError (what wait_accepted raised before) and a TimeoutError.
    with pytest.raises(AcceptTimeoutError, match="not accepted within 0.01 s"):
        run_sync(waits("accepted", 0.01))
    with pytest.raises(AcceptTimeoutError, match="not accepted within 0.01 s"):
        asyncio.run(run_async(waits("accepted", 0.01)))
    assert issubclass(AcceptTimeoutError, FlushTimeoutError)
    assert issubclass(AcceptTimeoutError, TimeoutError)


# ------------------------------------------ ids and paths a mutation run found unpinned


def test_an_unreachable_server_is_named_with_how_to_start_it():
    s = Setup(RetryPolicy(max_attempts=1))
    sub, fut = s.submit()
    script = [(put(sub), None), (create(sub), httpx.ConnectError("refused")),
              (Call("store.delete_item", (inbox_namespace(sub.thread_id), sub.submission_id)), None)]  # fmt: skip
    assert play(send_flow(s, sub), script) is False
    with pytest.raises(NotAcceptedError) as info:
        fut.result(timeout=0)
    assert str(info.value).endswith(
        "(creating the run failed after retries): ConnectError: refused "
        "(is the server running at http://test? start it with `langgraph dev`)"
    )


def test_asking_whether_our_run_started_is_retried_like_the_send():
    s = Setup()
    first, _ = s.accept("run-1")  # due now: it may be running
    tid = first.thread_id
    sub, fut = s.submit()
    script = [
        (put(sub), None),
        (Call("runs.get", (tid, "run-1")), ServerSays(503)),
        (Sleep(0.0), None),
        (Call("runs.get", (tid, "run-1")), {"status": "running"}),
        (create(sub, "enqueue"), {"run_id": "run-2"}),
    ]
    assert play(send_flow(s, sub), script)
    assert (fut.stage, fut.run_id) == (Stage.ACCEPTED, "run-2")


def test_a_thread_cancelled_while_its_receipts_are_deleted_is_asked_nothing_more():
    s = Setup()
    done, fut = s.accept("run-1")
    _, other = s.accept("run-1")
    tid = done.thread_id
    flow = s.flows.watch()
    assert next(flow) == search(receipts_namespace(tid))
    step = flow.send({"items": [receipt(done, "run-1")]})
    assert step == Call("store.delete_item", (receipts_namespace(tid), done.submission_id))
    assert s.ledger.cancel_thread(tid, "t") == 1  # the caller cancels meanwhile
    with pytest.raises(StopIteration):  # no question about run-1: nothing of ours waits
        flow.send(None)
    assert fut.result(timeout=0).run_id == "run-1"
    with pytest.raises(SubmissionCancelledError):
        other.result(timeout=0)


def test_after_a_failed_run_the_servers_next_attempt_is_the_run_watched():
    s = Setup(redelivery=True)
    sub, fut = s.accept("run-1")
    tid = sub.thread_id
    play(s.flows.watch(), _failed_run_script(tid, "run-2", None))
    assert not fut.done() and s.ledger.unprocessed(tid) == ("run-2", [sub.submission_id])
    # run-2 fails too and nothing newer follows: the next question is about run-2.
    assert next(s.flows.check_run(tid, "run-2", [sub.submission_id])) == Call(
        "runs.get", (tid, "run-2")
    )


def test_status_names_the_thread_asked_about():
    s = Setup()
    tid = validate_thread_id("chat")
    script = [
        (runs(tid, "running"), []),
        (runs(tid, "pending"), []),
        (search(inbox_namespace(tid)), {"items": []}),
    ]
    assert play(s.flows.status("chat"), script).thread_id == tid


def test_search_reads_the_namespace_asked_for():
    s = Setup()
    call = Call(
        "store.search_items",
        (("notes", "ann"),),
        {"query": None, "filter": {"k": 1}, "limit": 3, "offset": 2},
    )
    got = play(s.flows.search(None, {"k": 1}, 3, 2, ["notes", "ann"]), [(call, {"items": []})])
    assert got == []
    with pytest.raises(InvalidPayloadError, match="namespace"):
        s.flows.search(None, None, 3, 0, ["bad.label"])


# --------------------------------------------------------------------- history

HISTORY = ("reflection_history", "memories")


def _change(key: str, at: float, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": {"namespace": ["memories"], "key": "home", "at": at, **value}}


def test_history_reads_every_page_newest_first_and_one_memory_with_a_key():
    s = Setup()
    page = _flows.STORE_PAGE
    old, new = _change("home@1", 1.0, event="created"), _change("home@2", 2.0, event="updated")
    first = Call("store.search_items", (HISTORY,), {"filter": {"key": "home"}, "limit": page,
                                                     "offset": 0})  # fmt: skip
    got = play(s.flows.history("home", None, 50), [(first, {"items": [old, new]})])
    assert [(c.id, c.event, c.namespace) for c in got] == [
        ("home@2", "updated", ("memories",)), ("home@1", "created", ("memories",))
    ]  # fmt: skip
    every = Call("store.search_items", (("reflection_history", "notes"),),
                 {"limit": page, "offset": 0})  # fmt: skip
    got = play(s.flows.history(None, ["notes"], 1), [(every, {"items": [old, new]})])
    assert [c.id for c in got] == ["home@2"]  # the limit keeps the newest
    for bad in ("", 3):
        with pytest.raises(InvalidPayloadError, match="key"):
            s.flows.history(bad, None, 5)  # type: ignore[arg-type]
    for bad_limit in (0, True, "5"):
        with pytest.raises(InvalidPayloadError, match="limit: expected a whole number >= 1"):
            s.flows.history(None, None, bad_limit)  # type: ignore[arg-type]


def test_undo_brings_the_value_before_back_and_records_itself():
    s = Setup()
    porto, lisbon = {"content": "User lives in Porto."}, {"content": "User lives in Lisbon."}
    change = _change("home@2", 2.0, event="updated", before=porto, after=lisbon)
    restored_key = records.history_key("home", NOW)
    entry = records.history_entry(("memories",), "home", lisbon, porto, NOW, restores="home@2")
    got = play(
        s.flows.undo("home@2", None),
        [
            (Call("store.get_item", (HISTORY, "home@2")), change),
            (Call("store.get_item", (("memories",), "home")), {"key": "home", "value": lisbon}),
            (Call("store.put_item", (("memories",), "home", porto)), None),
            (Call("store.put_item", (HISTORY, restored_key, entry),
                  {"index": False, "ttl": 90 * 24 * 60}), None),
        ],
    )  # fmt: skip
    assert (got.id, got.event, got.before, got.after, got.restores) == (
        restored_key, "restored", lisbon, porto, "home@2"
    )  # fmt: skip


def test_undoing_a_creation_deletes_and_a_missing_change_is_named():
    s = Setup()
    s.flows.features.history_days = 0  # kept for ever: no TTL
    created = _change("home@1", 1.0, event="created", before=None, after={"content": "x"})
    key = records.history_key("home", NOW)
    entry = records.history_entry(("memories",), "home", {"content": "x"}, None, NOW,
                                  restores="home@1")  # fmt: skip
    play(
        s.flows.undo("home@1", None),
        [
            (Call("store.get_item", (HISTORY, "home@1")), created),
            (Call("store.get_item", (("memories",), "home")), {"value": {"content": "x"}}),
            (Call("store.delete_item", (("memories",), "home")), None),
            (Call("store.put_item", (HISTORY, key, entry), {"index": False, "ttl": None}), None),
        ],
    )
    alices = Call("store.get_item", (("reflection_history", "memories", "alice"), "gone"))
    with pytest.raises(HistoryNotFoundError) as info:
        play(s.flows.undo("gone", ["memories", "alice"]), [(alices, GONE)])
    assert str(info.value) == (
        "undo: no change 'gone' in the history of memories/alice "
        "(see history(); entries expire after MEMORY_HISTORY_DAYS)"
    )
    with pytest.raises(InvalidPayloadError, match="change_id"):
        s.flows.undo("", None)


def test_a_delete_of_what_is_not_there_writes_only_the_history():
    entry = records.history_entry(("m",), "k", None, None, NOW)
    key = records.history_key("k", NOW)
    play(
        Flows.change_memory(("m",), "k", None, NOW, 1),
        [
            (Call("store.get_item", (("m",), "k")), None),
            (Call("store.put_item", (("reflection_history", "m"), key, entry),
                  {"index": False, "ttl": 1440}), None),
        ],
    )  # fmt: skip


def test_history_kept_under_a_minute_is_still_kept_a_minute():
    entry = records.history_entry(("m",), "k", None, None, NOW)
    key = records.history_key("k", NOW)
    play(
        Flows.change_memory(("m",), "k", None, NOW, 0.0001),  # 8.6 s: the TTL is whole minutes
        [
            (Call("store.get_item", (("m",), "k")), None),
            (Call("store.put_item", (("reflection_history", "m"), key, entry),
                  {"index": False, "ttl": 1}), None),
        ],
    )  # fmt: skip


def test_the_server_says_how_long_it_keeps_history():
    s = Setup()
    s.flows.features.known = False
    meta = Call("http.get", ("/reflect/meta",))
    found = play(s.flows.server_features(), [(meta, {**META, "history": {"days": 7}})])
    assert found.history_days == 7
    plain = play(ServerFeatures.ask(RetryPolicy(max_attempts=1)), [(meta, GONE)])
    assert plain == ServerFeatures(known=True, history_days=records.DEFAULT_HISTORY_DAYS)


# --------------------------------------------------------------- consolidation


def _consolidation(thread_key: str, namespace: list[str], **configurable: Any) -> Call:
    """The one run a consolidation waits for, on the thread ``thread_key`` names."""
    return Call(
        "runs.wait",
        (validate_thread_id(thread_key), "memory_manager"),
        {
            "input": {"messages": [], "consolidate": True},
            "config": {"configurable": {"namespace": namespace, **configurable}},
            "multitask_strategy": "reject",  # one consolidation of a namespace at once
            "if_not_exists": "create",
            "raise_error": False,  # a refusal is the run's output
        },
    )


def test_consolidation_waits_for_a_run_on_the_namespaces_own_thread_and_returns_the_retired():
    s = Setup()
    run = _consolidation("memory-reflect:consolidate:memories", ["memories"])
    changes = {"created": [], "updated": ["memories/a"], "deleted": ["memories/b", "memories/c"]}
    got = play(s.flows.consolidate(None, None), [(run, {"changes": changes})])
    assert got == ["memories/b", "memories/c"]
    for answer in ({"changes": {"deleted": []}}, {}, None):  # nothing retired
        assert play(s.flows.consolidate(None, None), [(run, answer)]) == []


def test_consolidation_of_another_namespace_sends_its_bound_when_given():
    s = Setup()
    for bound in (3, 0):  # 0: no bound
        run = _consolidation(
            "memory-reflect:consolidate:notes/alice", ["notes", "alice"], max_memories=bound
        )
        assert play(s.flows.consolidate(["notes", "alice"], bound), [(run, {})]) == []


def test_a_refused_consolidation_says_why():
    s = Setup()
    run = _consolidation("memory-reflect:consolidate:notes/alice", ["notes", "alice"])
    flow = s.flows.consolidate(["notes", "alice"], None)
    refusal = {"error": "ConsolidationRefusedError", "message": "2 submissions wait in an inbox"}
    with pytest.raises(ConsolidationError) as info:
        play(flow, [(run, {"__error__": refusal})])
    assert str(info.value) == "2 submissions wait in an inbox"
    with pytest.raises(ConsolidationError) as info:
        play(s.flows.consolidate(["notes", "alice"], None), [(run, ServerSays(409))])
    assert str(info.value) == "consolidate notes/alice: one is running already"
    assert isinstance(info.value.__cause__, ServerSays)
    for failure in (ServerSays(500), httpx.ConnectError("refused")):  # others: raised as they are
        with pytest.raises(type(failure)):
            play(s.flows.consolidate(["notes", "alice"], None), [(run, failure)])


def test_consolidate_refuses_a_bad_bound_or_namespace_before_any_request():
    s = Setup()
    for bad in (-1, True, 2.5, "3"):
        with pytest.raises(InvalidPayloadError) as info:
            s.flows.consolidate(None, bad)  # type: ignore[arg-type]
        assert str(info.value) == (
            f"max_memories: expected a whole number >= 0 (0: no bound), got {bad!r}"
        )
    with pytest.raises(InvalidPayloadError, match=r"namespace\[0\]"):
        s.flows.consolidate(["a.b"], None)


# --------------------------------------------------------------------- erasure

WHOAMI = Call("http.get", ("/inspector/api/whoami",))
THREADS = Call("threads.search", (), {"metadata": {"graph_id": "memory_manager"},
                                      "limit": _flows.RUNS_PAGE, "offset": 0})  # fmt: skip
NAMESPACES = Call("store.list_namespaces", (), {"limit": _flows.RUNS_PAGE, "offset": 0})


def _runs(thread_id: str, status: str) -> Call:
    options = {"status": status, "limit": _flows.RUNS_PAGE, "offset": 0}
    return Call("runs.list", (thread_id,), options)


def _read(ns: tuple[str, ...]) -> Call:
    return Call("store.search_items", (ns,), {"limit": _flows.STORE_PAGE, "offset": 0})


def _erasing_read(ns: tuple[str, ...]) -> Call:
    # Erasure's reads say they are no use of what they return (the server records none).
    options = {"headers": {records.NOT_A_USE_HEADER: "1"}, "limit": _flows.STORE_PAGE, "offset": 0}
    return Call("store.search_items", (ns,), options)


def test_erase_names_what_is_missing_or_malformed_before_any_request():
    with pytest.raises(InvalidPayloadError) as info:
        _flows.erase(None, [], "memory_manager")
    assert str(info.value) == "forget: name a --user or at least one --namespace"
    with pytest.raises(InvalidPayloadError) as info:
        _flows.erase("carol", [["notes"], ["a.b"]], "memory_manager")
    assert str(info.value) == "--namespace[0]: label 'a.b' must not contain '.'"


def test_a_keyed_key_erases_only_its_own_identity():
    with pytest.raises(InvalidPayloadError, match="this API key is 'alice'"):
        play(_flows.erase("bob", [], "memory_manager"),
             [(WHOAMI, {"identity": "alice", "prefix": ["alice"]})])  # fmt: skip


def test_a_keyed_identity_erases_every_namespace_and_thread_it_owns():
    mine, history = ("memories", "alice"), ("reflection_history", "memories", "alice")
    inbox1, receipts1, delivery1 = records.thread_records("t1")
    inbox2, receipts2, delivery2 = records.thread_records("t2")
    # The server prefixes what the key reads and writes with its identity.
    listed = [["alice", *mine], ["alice", *history], ["alice", *inbox1]]
    script = [
        (WHOAMI, {"identity": "alice", "prefix": ["alice"]}),
        (NAMESPACES, {"namespaces": listed}),
        (THREADS, [{"thread_id": "t1"}, {"thread_id": "t2"}]),  # all its own: all go
        # t1: its pending run rolled back first, then its records, then the thread
        (_runs("t1", "running"), []),
        (_runs("t1", "pending"), [{"run_id": "r1"}]),
        (Call("runs.cancel", ("t1", "r1"), {"action": "rollback"}), None),
        (_read(inbox1), {"items": [{"key": "e1"}, {"key": "e2"}]}),
        (Call("store.delete_item", (inbox1, "e1")), None),
        (Call("store.delete_item", (inbox1, "e2")), None),
        (_read(receipts1), {"items": []}),
        (_read(delivery1), {"items": []}),
        (Call("threads.delete", ("t1",)), None),
        # t2: its run finished before the cancel came
        (_runs("t2", "running"), [{"run_id": "r2"}]),
        (_runs("t2", "pending"), []),
        (Call("runs.cancel", ("t2", "r2"), {"action": "rollback"}), GONE),
        (_read(inbox2), {"items": []}),
        (_read(receipts2), {"items": [{"key": "s1"}]}),
        (Call("store.delete_item", (receipts2, "s1")), None),
        (_read(delivery2), {"items": []}),
        (Call("threads.delete", ("t2",)), None),
        # then every namespace, by the name the key uses for it
        (_erasing_read(mine), {"items": [{"key": "m1", "namespace": ["alice", *mine]}]}),
        (Call("store.delete_item", (mine, "m1")), None),
        (_erasing_read(history), {"items": [{"key": "m1@1", "namespace": ["alice", *history]}]}),
        (Call("store.delete_item", (history, "m1@1")), None),
        (_erasing_read(inbox1), {"items": []}),  # emptied with its thread
    ]
    erased = play(_flows.erase("alice", [], "memory_manager"), script)
    assert (erased.namespaces, erased.threads) == ([mine, history, inbox1], ["t1", "t2"])
    assert erased.items == 2 + 1 + 2  # t1's inbox, t2's receipt, the memory and its history


def test_an_open_server_erases_a_labels_namespaces_and_the_threads_that_fed_them():
    mine, other = ("memories", "carol"), ("memories", "dave")
    history = ("reflection_history", "memories", "carol")
    uses = ("reflection_use", "memories", "carol")
    fed = {"thread_id": "t1", "values": {"namespaces": [list(mine)]}}
    unrelated = {"thread_id": "t2", "values": {"namespaces": [list(other)]}}
    listed = [list(mine), list(other), list(history), ["reflection_inbox", "t1"],
              ["reflection_inbox", "t2"], list(uses),
              ["reflection_activity", "memories", "dave"]]  # fmt: skip
    inbox, receipts, delivery = records.thread_records("t1")
    sub_item = {"key": "sub", "namespace": [*mine, "x"]}  # a sub-namespace: erased on its own
    script = [
        (WHOAMI, GONE),  # not our server's route: open, no prefix
        (NAMESPACES, {"namespaces": listed}),
        (THREADS, [fed, unrelated, {"thread_id": "t3", "values": {}}]),
        # t1 fed carol's namespace: its runs, records and itself go, first.
        (_runs("t1", "running"), []),
        (_runs("t1", "pending"), []),
        (_read(inbox), {"items": [{"key": "e1", "namespace": [], "value": {}}]}),
        (Call("store.delete_item", (inbox, "e1")), None),
        (_read(receipts), {"items": []}),
        (_read(delivery), {"items": []}),
        (Call("threads.delete", ("t1",)), GONE),  # gone meanwhile: fine
        # t2 wrote dave's namespace; its inbox waits for nobody of carol's (t3 has no inbox).
        (_read(records.inbox_namespace("t2")), {"items": []}),
        (_erasing_read(mine), {"items": [{"key": "m1", "namespace": list(mine)}, sub_item]}),
        (Call("store.delete_item", (mine, "m1")), None),
        (_erasing_read(history), {"items": [{"key": "m1@1", "namespace": list(history)}]}),
        (Call("store.delete_item", (history, "m1@1")), None),
        # Its use records go too; dave's activity record stays.
        (_erasing_read(uses), {"items": [{"key": "m1", "namespace": list(uses)}]}),
        (Call("store.delete_item", (uses, "m1")), None),
    ]
    erased = play(_flows.erase("carol", [], "memory_manager"), script)
    assert erased.namespaces == [mine, history, uses]
    assert (erased.threads, erased.items) == (["t1"], 4)


def test_an_open_server_erases_a_thread_whose_inbox_waits_for_the_namespace():
    """... and reads only the inboxes the namespace listing names."""
    mine = ("memories", "carol")
    # A namespace per conversation names a thread (t3) without being its inbox.
    listed = [list(mine), ["memories", "t3"], ["reflection_inbox", "t1"],
              ["reflection_inbox", "t2"]]  # fmt: skip
    inbox1, receipts1, delivery1 = records.thread_records("t1")
    waiting = [{"key": "e1", "value": {"namespace": ["memories", "dave"]}},
               {"key": "e2", "value": {"namespace": list(mine)}}]  # fmt: skip
    # t2's inbox: an entry for dave, and one with no namespace
    others = [{"key": "e3", "value": {"namespace": ["memories", "dave"]}},
              {"key": "e4", "value": {}}]  # fmt: skip
    script = [
        (WHOAMI, GONE),
        (NAMESPACES, {"namespaces": listed}),
        (THREADS, [{"thread_id": t, "values": {}} for t in ("t1", "t2", "t3")]),
        (_read(inbox1), {"items": waiting}),  # one entry for carol: t1 goes
        (_runs("t1", "running"), []),
        (_runs("t1", "pending"), []),
        (_read(inbox1), {"items": waiting}),
        (Call("store.delete_item", (inbox1, "e1")), None),
        (Call("store.delete_item", (inbox1, "e2")), None),
        (_read(receipts1), {"items": []}),
        (_read(delivery1), {"items": []}),
        (Call("threads.delete", ("t1",)), None),
        (_read(records.inbox_namespace("t2")), {"items": others}),
        (_erasing_read(mine), {"items": []}),
    ]
    erased = play(_flows.erase("carol", [], "memory_manager"), script)
    assert (erased.namespaces, erased.threads, erased.items) == ([mine], ["t1"], 2)


def test_named_namespaces_go_with_those_below_them_and_their_history_but_no_threads_records():
    notes, below, history = ("notes",), ("notes", "x"), ("reflection_history", "notes")
    listed = [list(notes), list(below), list(history), ["memories", "notes"],
              ["reflection_inbox", "t1"]]  # fmt: skip
    t1 = {"thread_id": "t1", "values": {"namespaces": [["memories", "dave"]]}}
    script = [
        (WHOAMI, GONE),
        (NAMESPACES, {"namespaces": listed}),
        (THREADS, [t1]),
        (_read(records.inbox_namespace("t1")), {"items": []}),  # fed nothing named: stays
        (_erasing_read(notes), {"items": [{"key": "n1", "namespace": list(notes)}]}),
        (Call("store.delete_item", (notes, "n1")), None),
        (_erasing_read(below), {"items": []}),
        (_erasing_read(history), {"items": []}),
    ]
    # Naming the inboxes' namespace deletes no inbox: a thread's records go with the thread.
    erased = play(_flows.erase(None, [["notes"], ["reflection_inbox"]], "memory_manager"), script)
    assert (erased.namespaces, erased.threads, erased.items) == ([notes, below, history], [], 1)


# Reading the server's answers: a thread's status, and what it no longer holds.


def test_thread_status_prefers_running_then_pending():
    runs = [
        {"run_id": "p", "status": "pending", "created_at": "2026-01-01T00:00:10+00:00"},
        {"run_id": "r", "status": "running", "created_at": "2026-01-01T00:00:00+00:00"},
    ]
    delivery = Delivery(attempts=1)
    running = thread_status("t", runs, 2, delivery)
    assert (running.thread_id, running.state, running.run_id) == ("t", "running", "r")
    assert running.due_at is None and running.delivery == delivery  # due: pending runs only
    pending = thread_status("t", runs[:1], 1, delivery)
    assert (pending.state, pending.run_id, pending.inbox) == ("pending", "p", 1)
    assert pending.due_at == pytest.approx(1767225610.0, abs=1e-3)
    assert pending.thread_id == "t" and pending.delivery == delivery
    assert thread_status("t", [], 0).state == "idle"
    zulu = thread_status("t", [{**runs[0], "created_at": "2026-01-01T00:00:10Z"}], 1)
    assert zulu.due_at == pending.due_at
    odd = thread_status("t", [{**runs[0], "created_at": 5}], 1)  # not a time: no due time
    assert odd.state == "pending" and odd.due_at is None


def test_a_threads_delivery_record_or_none():
    assert delivery_of(None) is None
    record = {"attempts": 2, "max_attempts": 5, "parked": True}
    assert delivery_of({"key": "state", "value": record}) == Delivery.from_record(record)


def test_missing_is_neither_held_nor_receipted():
    inbox = [{"key": "k", "value": {"submissions": [{"submission_id": "held"}]}}]
    receipts = [{"key": "done", "value": {}}]
    assert missing(["held", "done", "gone"], inbox, receipts) == ["gone"]


def test_not_found_is_a_404_answer():
    class Answer(Exception):
        status_code = 404

    assert not_found(Answer()) and not not_found(ValueError("x"))
