"""Reading the server's answers: a thread's status, and what it no longer holds."""

import pytest

from sdk_client._answers import inbox_count, missing, not_found, thread_status


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


def test_missing_is_neither_held_nor_receipted():
    inbox = [{"key": "k", "value": {"submissions": [{"submission_id": "held"}]}}]
    receipts = [{"key": "done", "value": {}}]
    assert missing(["held", "done", "gone"], inbox, receipts) == ["gone"]
    assert inbox_count(inbox) == 1


def test_not_found_is_a_404_answer():
    class Answer(Exception):
        status_code = 404

    assert not_found(Answer()) and not not_found(ValueError("x"))
