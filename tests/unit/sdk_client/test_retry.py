import httpx
import pytest

from sdk_client._retry import RetryPolicy, call, delay_for, retry_after_of, should_retry

NO_SLEEP = RetryPolicy(max_attempts=4, initial_delay=0, jitter=0)


def _status_error(code: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(code, headers=headers, request=request)
    return httpx.HTTPStatusError(f"{code}", request=request, response=response)


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_retries_transient_statuses(code):
    assert should_retry(_status_error(code))


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
def test_never_retries_a_request_that_is_wrong(code):
    assert not should_retry(_status_error(code))


def test_retries_transport_errors_only():
    assert should_retry(httpx.ConnectError("refused"))
    assert should_retry(httpx.ReadTimeout("slow"))
    assert not should_retry(ValueError("bug"))


def test_retry_after_is_honoured_and_capped():
    assert retry_after_of(_status_error(429, {"retry-after": "2"})) == 2.0
    policy = RetryPolicy(initial_delay=0.1, max_delay=1.0, jitter=0)
    assert delay_for(policy, 1, _status_error(429, {"retry-after": "30"})) == 1.0
    assert delay_for(policy, 3, httpx.ConnectError("x")) == pytest.approx(0.4)


def test_call_retries_then_succeeds():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise _status_error(503)
        return "ok"

    assert call(NO_SLEEP, flaky) == "ok"
    assert len(attempts) == 3


def test_call_gives_up_after_max_attempts_and_on_4xx():
    attempts = []

    def down():
        attempts.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        call(NO_SLEEP, down)
    assert len(attempts) == 4

    def bad():
        attempts.append(1)
        raise _status_error(422)

    attempts.clear()
    with pytest.raises(httpx.HTTPStatusError):
        call(NO_SLEEP, bad)
    assert len(attempts) == 1


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
