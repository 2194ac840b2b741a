"""Reading the server's answers: a thread's status, and what it no longer holds."""

import pytest

from sdk_client._answers import missing, not_found, thread_status
from sdk_client.types import ModelUsage, SubmissionResult


def test_thread_status_prefers_running_then_pending():
    runs = [
        {"run_id": "p", "status": "pending", "created_at": "2026-01-01T00:00:10+00:00"},
        {"run_id": "r", "status": "running", "created_at": "2026-01-01T00:00:00+00:00"},
    ]
    assert thread_status("t", runs, 2).state == "running"
    pending = thread_status("t", runs[:1], 1)
    assert (pending.state, pending.run_id, pending.inbox) == ("pending", "p", 1)
    assert pending.due_at == pytest.approx(1767225610.0, abs=1e-3)
    assert thread_status("t", [], 0).state == "idle"


def test_missing_is_neither_held_nor_receipted():
    inbox = [{"key": "k", "value": {"submissions": [{"submission_id": "held"}]}}]
    receipts = [{"key": "done", "value": {}}]
    assert missing(["held", "done", "gone"], inbox, receipts) == ["gone"]


def test_not_found_is_a_404_answer():
    class Answer(Exception):
        status_code = 404

    assert not_found(Answer()) and not not_found(ValueError("x"))


def test_usage_reads_a_run_record_and_none_when_absent():
    record = {"usage": {"model_calls": 2, "prompt_tokens": 1234, "completion_tokens": 56,
                        "model_seconds": 0.84}}  # fmt: skip
    usage = ModelUsage.of(record)
    assert usage == ModelUsage(2, 1234, 56, 0.84) and usage.total_tokens == 1290
    assert usage.describe() == "2 model calls, 1,234 → 56 tokens, 840 ms"
    assert ModelUsage.of({"run_id": "r"}) is None  # a server that does not record usage
    assert ModelUsage.of(None) is None
    assert ModelUsage.of({"usage": {}}) == ModelUsage()
    assert ModelUsage().describe() == "no model calls"


def test_usage_fields_of_the_wrong_type_read_as_zero():
    bad = {"model_calls": "2", "prompt_tokens": -5, "completion_tokens": True, "model_seconds": "x"}
    assert ModelUsage.from_record(bad) == ModelUsage()


def test_a_receipt_with_usage_gives_a_result_with_usage():
    receipt = {"submission_id": "s", "run_id": "r", "processed_at": 1.0, "message_ids": ["m"],
               "created": ["a/k"], "updated": [], "deleted": [],
               "usage": {"model_calls": 1, "prompt_tokens": 300, "completion_tokens": 12,
                         "model_seconds": 0.2}}  # fmt: skip
    result = SubmissionResult.from_receipt("t", receipt)
    assert result.usage == ModelUsage(1, 300, 12, 0.2)
    del receipt["usage"]  # from a server older than the field
    assert SubmissionResult.from_receipt("t", receipt).usage is None
    # Built the old way, without the new field: still valid.
    assert SubmissionResult("s", "t", "r").usage is None


def test_usage_says_seconds_once_past_one():
    assert ModelUsage(1, 10, 2, 2.345).describe() == "1 model call, 10 → 2 tokens, 2.3 s"
