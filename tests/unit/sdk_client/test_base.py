import pytest
from langgraph.func import entrypoint

from sdk_client._base import (
    NOT_GIVEN,
    STARTED_MARGIN,
    Ledger,
    RunPlan,
    build_submission,
    coalesce,
    resolve_thread_id,
    thread_status,
)
from sdk_client.contract import validate_thread_id
from sdk_client.errors import (
    ExecutorShutdownError,
    InvalidPayloadError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
)
from sdk_client.types import Stage

PAYLOAD = {"messages": [{"role": "user", "content": "I love tea."}]}


def test_thread_precedence_explicit_then_config():
    cfg = {"configurable": {"thread_id": "from-config"}}
    assert resolve_thread_id("explicit", cfg) == validate_thread_id("explicit")
    assert resolve_thread_id(NOT_GIVEN, cfg) == validate_thread_id("from-config")
    assert resolve_thread_id(None, cfg) == validate_thread_id("from-config")


def test_no_thread_is_a_clear_error():
    with pytest.raises(InvalidPayloadError, match="thread_id: no thread to submit to"):
        resolve_thread_id(NOT_GIVEN, None)
    with pytest.raises(ValueError):
        resolve_thread_id(NOT_GIVEN, {"configurable": {}})


def test_thread_from_the_langgraph_context():
    @entrypoint()
    def node(_: str) -> str:
        return resolve_thread_id(NOT_GIVEN, None)

    got = node.invoke("x", {"configurable": {"thread_id": "ambient"}})
    assert got == validate_thread_id("ambient")


def test_build_submission_validates_everything_first():
    with pytest.raises(InvalidPayloadError, match="after_seconds"):
        build_submission(PAYLOAD, ("m",), config=None, after_seconds=-1, thread_id="t")
    with pytest.raises(InvalidPayloadError, match="user_id"):
        build_submission(PAYLOAD, ("m", "{user_id}"), config=None, after_seconds=0, thread_id="t")
    sub = build_submission(
        PAYLOAD,
        ("m", "{user_id}"),
        config={"configurable": {"user_id": "u1"}},
        after_seconds=2,
        thread_id="t",
    )
    assert sub.namespace == ("m", "u1")
    assert sub.due_at == pytest.approx(sub.submitted_at + 2)


def _sub(ns=("m",), after=5.0, thread="t"):
    return build_submission(PAYLOAD, ns, config=None, after_seconds=after, thread_id=thread)


def test_coalesce_one_request_per_namespace_run():
    a, b, c = _sub(), _sub(), _sub(("other",))
    reqs = coalesce([a, b, c], now=b.submitted_at)
    assert len(reqs) == 2
    first = reqs[0]
    assert [s["submission_id"] for s in first.inbox_entry["submissions"]] == [
        a.submission_id,
        b.submission_id,
    ]
    assert first.inbox_key == a.submission_id
    assert first.run_input["submission_id"] == b.submission_id
    assert first.run_config["configurable"]["namespace"] == ["m"]
    assert reqs[1].inbox_entry["namespace"] == ["other"]


def test_coalesce_counts_the_delay_from_submission_time():
    s = _sub(after=5.0)
    assert coalesce([s], now=s.submitted_at + 2)[0].after_seconds == pytest.approx(3.0, abs=0.01)
    assert coalesce([s], now=s.submitted_at + 9)[0].after_seconds == 0.0


def test_thread_status_prefers_running_then_pending():
    runs = [
        {"run_id": "p", "status": "pending", "created_at": "2026-01-01T00:00:10+00:00"},
        {"run_id": "r", "status": "running", "created_at": "2026-01-01T00:00:00+00:00"},
    ]
    assert thread_status("t", runs, 2).state == "running"
    pending = thread_status("t", runs[:1], 1)
    assert (pending.state, pending.run_id, pending.inbox) == ("pending", "p", 1)
    assert pending.due_at == pytest.approx(1767225610.0)
    assert thread_status("t", [], 0).state == "idle"


# --------------------------------------------------------------------- Ledger


def test_ledger_follows_a_submission_from_handed_over_to_processed():
    ledger = Ledger()
    a, b = _sub(after=0), _sub(after=0)
    fa, fb = ledger.add(a), ledger.add(b)
    [(req, subs)] = ledger.requests([a, b])
    assert subs == [a, b] and req.run_input["submission_id"] == b.submission_id
    ledger.accepted("t-uuid", "run-1", subs)
    assert (fa.stage, fa.run_id) == (Stage.ACCEPTED, "run-1")
    assert ledger.due_threads(b.due_at) == ["t-uuid"]
    assert ledger.unprocessed("t-uuid") == ("run-1", [a.submission_id, b.submission_id])
    receipt = {
        "key": a.submission_id,
        "value": {"submission_id": a.submission_id, "run_id": "run-1"},
    }
    assert ledger.receipts("t-uuid", [receipt, {"key": "other", "value": {}}]) == [a.submission_id]
    assert fa.result(timeout=0).run_id == "run-1"
    assert not fb.done()
    ledger.run_failed("t-uuid", "run-1", "error", [b.submission_id])
    with pytest.raises(ProcessingFailedError, match="status 'error'"):
        fb.result(timeout=0)
    assert ledger.pending() == []


def test_ledger_plans_rollback_while_no_run_of_ours_can_be_running():
    ledger = Ledger()
    a = _sub(after=5)
    ledger.add(a)
    assert ledger.may_be_running("t-uuid", a.submitted_at) == []
    assert ledger.plan_run("t-uuid", {}) == RunPlan("rollback")
    ledger.accepted("t-uuid", "run-1", [a], due_at=a.due_at)
    # Not due yet: surely pending, so the next run may supersede it without asking.
    assert ledger.may_be_running("t-uuid", a.due_at - STARTED_MARGIN - 0.1) == []
    assert ledger.may_be_running("t-uuid", a.due_at - STARTED_MARGIN) == ["run-1"]


def test_ledger_plans_enqueue_behind_a_running_run_and_cancels_our_pending_ones():
    ledger = Ledger()
    a, b, c = _sub(after=0), _sub(after=5), _sub(after=5)
    for s in (a, b, c):
        ledger.add(s)
    ledger.accepted("t-uuid", "run-1", [a], due_at=a.due_at)
    assert ledger.may_be_running("t-uuid", a.due_at) == ["run-1"]
    plan = ledger.plan_run("t-uuid", {"run-1": "running"})
    assert plan == RunPlan("enqueue", cancel=(), running=("run-1",))
    ledger.accepted("t-uuid", "run-2", [b], due_at=b.due_at, plan=plan)
    # run-1 still runs, run-2 is not due: cancel run-2, queue run-3 behind run-1.
    plan = ledger.plan_run("t-uuid", {"run-1": "running"})
    assert plan == RunPlan("enqueue", cancel=("run-2",), running=("run-1",))
    ledger.accepted("t-uuid", "run-3", [c], due_at=c.due_at, plan=plan)
    assert ledger.may_be_running("t-uuid", c.due_at) == ["run-1", "run-3"]
    # run-1 finished: back to a plain rollback, which supersedes run-3.
    assert ledger.plan_run("t-uuid", {"run-1": "success", "run-3": "pending"}) == RunPlan()
    assert ledger.may_be_running("t-uuid", c.due_at) == ["run-3"]


def test_ledger_forgets_a_thread_once_nothing_of_ours_waits_there():
    ledger = Ledger()
    a = _sub(after=0)
    ledger.add(a)
    ledger.accepted("t-uuid", "run-1", [a], due_at=a.due_at)
    receipt = {"key": a.submission_id, "value": {"submission_id": a.submission_id}}
    ledger.receipts("t-uuid", [receipt])
    assert ledger.may_be_running("t-uuid", a.due_at + 60) == []
    assert ledger.unprocessed("t-uuid") == (None, [])
    assert ledger.due_threads(a.due_at + 60) == []


def test_ledger_skips_resolved_submissions_when_coalescing():
    ledger = Ledger()
    a, b = _sub(), _sub()
    ledger.add(a)
    ledger.add(b)
    assert ledger.cancel_thread(a.thread_id, "t") == 2
    assert ledger.requests([a, b]) == []


def test_ledger_not_accepted_names_the_url_and_keeps_the_cause():
    import httpx

    ledger = Ledger()
    a = _sub()
    fut = ledger.add(a)
    err = httpx.ConnectError("refused")
    ledger.not_accepted([a], err, "writing the inbox", "http://127.0.0.1:9")
    with pytest.raises(NotAcceptedError, match=r"http://127\.0\.0\.1:9.*langgraph dev") as info:
        fut.wait_accepted(0)
    assert info.value.__cause__ is err


def test_ledger_close_cancels_only_unsent_and_refuses_new_submissions():
    ledger = Ledger()
    sent, unsent = _sub(), _sub()
    f_sent, f_unsent = ledger.add(sent), ledger.add(unsent)
    ledger.accepted(sent.thread_id, "run", [sent])
    assert ledger.close(cancel_futures=True)
    assert not ledger.close(cancel_futures=True)
    assert f_unsent.stage is Stage.CANCELLED
    with pytest.raises(SubmissionCancelledError):
        f_unsent.result(timeout=0)
    assert f_sent.stage is Stage.ACCEPTED and not ledger.drained()
    with pytest.raises(ExecutorShutdownError):
        ledger.add(_sub())
