"""What the server's records read as: model usage, and a result built from a receipt."""

from sdk_client.types import ModelUsage, SubmissionResult


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
