"""The Ledger: every Future from handed over to processed, failed, lost or cancelled."""

import pytest

from sdk_client._ledger import STARTED_MARGIN, Ledger, RunPlan
from sdk_client._submission import build_submission
from sdk_client.errors import (
    ExecutorShutdownError,
    NotAcceptedError,
    ProcessingFailedError,
    SubmissionCancelledError,
    SubmissionLostError,
)
from sdk_client.types import Delivery, Stage

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
    assert ledger.resolve_processed("t-uuid", [receipt, {"key": "other", "value": {}}]) == [
        a.submission_id
    ]
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
    ledger.resolve_processed("t-uuid", [receipt])
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


T = _sub().thread_id


def _accepted(ledger, thread=T, run="run-1", n=1, after=0.0):
    subs = [_sub(after=after) for _ in range(n)]
    futs = [ledger.add(s) for s in subs]
    ledger.accepted(thread or T, run, subs, due_at=subs[-1].due_at)
    return subs, futs


@pytest.mark.parametrize(
    ("fail", "error", "says"),
    [
        (
            lambda ledger, sid: ledger.lost(T, "run-1", [sid]),
            SubmissionLostError,
            f"was accepted (run run-1, thread {T}) but the server no longer holds it: the run "
            "and the inbox entry are gone and no receipt says it was processed (a server "
            "restarted without its latest data?); submit it again",
        ),
        (
            lambda ledger, sid: ledger.run_failed(T, "run-1", "timeout", [sid]),
            ProcessingFailedError,
            f"run run-1 on thread {T} ended with status 'timeout'; the submission stays in the "
            "thread's inbox and the next run on the thread processes it",
        ),
        (
            lambda ledger, sid: ledger.parked(
                T, "run-1", [sid], Delivery(attempts=3, last_error="boom")
            ),
            ProcessingFailedError,
            "is parked after 3 attempts (last: boom); it stays in the thread's inbox until "
            "`memory-reflect retry` (executor.retry()) or the thread's next submission runs it again",
        ),
        (
            lambda ledger, sid: ledger.cancel_thread(T, "chat"),
            SubmissionCancelledError,
            "cancelled by cancel('chat')",
        ),
    ],
    ids=["lost", "failed", "parked", "cancelled"],
)
def test_a_failed_future_says_what_happened_and_names_its_ids(fail, error, says):
    ledger = Ledger()
    [sub], [fut] = _accepted(ledger)
    fail(ledger, sub.submission_id)
    exc = fut.exception(timeout=0)
    assert type(exc) is error and says in str(exc)
    assert (exc.submission_id, exc.thread_id) == (sub.submission_id, T)
    assert ledger.pending() == [] and ledger.unprocessed(T)[1] == []
    if error is not SubmissionCancelledError:  # the thread is forgotten: nothing waits there
        assert exc.run_id == "run-1" and ledger.unprocessed(T) == (None, [])


def test_a_shut_down_ledger_says_so():
    ledger = Ledger()
    sub = _sub()
    fut = ledger.add(sub)
    ledger.close(cancel_futures=True)
    exc = fut.exception(timeout=0)
    assert str(exc) == f"submission {sub.submission_id} cancelled by shutdown()"
    assert ledger.pending() == [] and ledger.drained()
    assert (exc.submission_id, exc.thread_id, fut.stage) == (
        sub.submission_id,
        sub.thread_id,
        Stage.CANCELLED,
    )
    with pytest.raises(ExecutorShutdownError) as info:
        ledger.add(_sub())
    assert str(info.value) == "submit(): the executor has been shut down"


def test_not_accepted_names_the_thread_and_the_errors_type():
    ledger = Ledger()
    sub = _sub()
    fut = ledger.add(sub)
    ledger.not_accepted([sub], ValueError("nope"), "writing the inbox", "http://x")
    exc = fut.exception(timeout=0)
    assert str(exc) == (
        f"submission {sub.submission_id} was not accepted (writing the inbox failed after "
        "retries): ValueError: nope"
    )
    assert exc.thread_id == sub.thread_id


def test_news_of_a_thread_nothing_waits_on_any_more_changes_nothing():
    # The watcher may learn about a run after cancel() resolved its Futures.
    ledger = Ledger()
    [sub], [fut] = _accepted(ledger)
    assert ledger.cancel_thread(T, "t") == 1
    for late in (
        lambda: ledger.not_accepted([sub], ValueError("x"), "creating the run", "http://x"),
        lambda: ledger.lost(T, "run-1", [sub.submission_id]),
        lambda: ledger.run_failed(T, "run-1", "error", [sub.submission_id]),
        lambda: ledger.redelivering(T, [sub.submission_id], Delivery()),
        lambda: ledger.resolve_processed(T, [{"key": sub.submission_id, "value": {}}]),
        lambda: ledger.plan_run(T, {"run-1": "success"}),
        lambda: ledger.cancel_thread(T, "t"),
    ):
        late()
    assert fut.stage is Stage.CANCELLED and ledger.pending() == []
    assert ledger.due_threads(1e12) == []
    assert ledger.may_be_running(T, 1e12) == []  # its runs are forgotten too


def test_a_future_cancelled_while_its_group_was_sent_stays_cancelled():
    ledger = Ledger()
    subs = [_sub(), _sub()]
    first, second = (ledger.add(s) for s in subs)
    ledger.cancel_thread(subs[0].thread_id, "t")
    third_sub = _sub()
    third = ledger.add(third_sub)
    ledger.accepted(third_sub.thread_id, "run-1", [*subs, third_sub])
    assert first.stage is second.stage is Stage.CANCELLED
    assert (third.stage, third.run_id) == (Stage.ACCEPTED, "run-1")


def test_a_run_falls_due_when_accepted_says():
    ledger = Ledger()
    sub = _sub(after=60)
    ledger.add(sub)
    ledger.accepted(T, "run-1", [sub], due_at=1000.0)
    assert ledger.may_be_running(T, 1000.0 - STARTED_MARGIN - 0.01) == []
    assert ledger.may_be_running(T, 1000.0 - STARTED_MARGIN) == ["run-1"]
    ledger2 = Ledger()
    ledger2.add(sub)
    ledger2.accepted(T, "run-1", [sub])  # due at once by default
    assert ledger2.may_be_running(T, 0.0) == ["run-1"]


def test_unsent_is_what_the_server_does_not_hold_yet():
    ledger = Ledger()
    held, unsent = _sub(), _sub()
    ledger.add(held), ledger.add(unsent)
    ledger.accepted(T, "run-1", [held])
    assert [f.submission_id for f in ledger.unsent()] == [unsent.submission_id]
    assert ledger.unsent_submissions() == [unsent]


def test_unsent_submissions_are_kept_only_until_the_server_answers_or_a_cancel():
    # What a delivery at exit resends: nothing accepted, failed or cancelled, and
    # the table empties as answers come, so a long-lived executor does not grow.
    ledger = Ledger()
    held, failed, cancelled, closed, left = (_sub(thread=t) for t in "abcde")
    for sub in (held, failed, cancelled, closed, left):
        ledger.add(sub)
    ledger.accepted("a-uuid", "run-1", [held])
    ledger.not_accepted([failed], OSError("down"), "writing the inbox", "http://x")
    ledger.cancel_thread(cancelled.thread_id, "c")
    assert ledger.unsent_submissions() == [closed, left]
    ledger.close(cancel_futures=True)
    assert ledger.unsent_submissions() == [] and ledger._unsent == {}


def test_a_processed_result_names_its_thread():
    ledger = Ledger()
    a = _sub(after=0)
    fut = ledger.add(a)
    ledger.accepted("t-uuid", "run-1", [a], due_at=a.due_at)
    receipt = {"key": a.submission_id, "value": {"submission_id": a.submission_id}}
    ledger.resolve_processed("t-uuid", [receipt])
    assert fut.result(timeout=0).thread_id == "t-uuid"


def test_a_long_lived_ledger_keeps_nothing_per_finished_thread():
    # The promise is memory: an executor serving many conversations must not grow
    # with every thread it ever served, so the per-thread tables are looked at.
    ledger = Ledger()
    for i in range(50):
        a = _sub(after=0, thread=f"t{i}")
        ledger.add(a)
        ledger.accepted(f"t{i}", f"run-{i}", [a], due_at=a.due_at)
        ledger.resolve_processed(
            f"t{i}", [{"key": a.submission_id, "value": {"submission_id": "x"}}]
        )
    assert (ledger._waiting, ledger._last_run, ledger._runs) == ({}, {}, {})


def test_after_a_cancel_the_threads_runs_are_no_longer_ours_to_ask_about():
    ledger = Ledger()
    a = _sub(after=0)
    ledger.add(a)
    ledger.accepted("t-uuid", "run-1", [a], due_at=a.due_at)
    assert ledger.may_be_running("t-uuid", a.due_at) == ["run-1"]
    ledger.cancel_thread("t-uuid", "t")
    assert ledger.may_be_running("t-uuid", a.due_at + 60) == []
    assert ledger.plan_run("t-uuid", {}) == RunPlan()
