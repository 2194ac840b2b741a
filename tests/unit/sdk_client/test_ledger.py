"""The Ledger: every Future from handed over to processed, failed, lost or cancelled."""

import pytest

from sdk_client._ledger import STARTED_MARGIN, Ledger, RunPlan
from sdk_client._submission import build_submission
from sdk_client.errors import (
    ExecutorShutdownError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
)
from sdk_client.types import Stage

PAYLOAD = {"messages": [{"role": "user", "content": "I love tea."}]}


def _sub(ns=("m",), after=5.0, thread="t"):
    return build_submission(PAYLOAD, ns, config=None, after_seconds=after, thread_id=thread)


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
