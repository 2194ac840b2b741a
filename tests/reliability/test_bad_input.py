"""Bad input at both boundaries: the client refuses it before sending, the server fails it clearly.

Over HTTP, a bad ``after_seconds`` or a non-object input is refused with 422 by the
server's request check (``graphs/server_app.py``); anything else wrong inside the
input fails the run, and the run's error names the field. Through it all the
server keeps serving other threads.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from sdk_client import InvalidPayloadError
from tests.reliability.conftest import record
from tests.reliability.support import executor, fact, memories, message, submit, turn

pytestmark = pytest.mark.reliability

HUGE = "x" * 200_001
GOOD = message("I live in Rome.")

# (name, request body or raw bytes, what the answer must say)
HTTP_CASES: list[tuple[str, dict[str, Any] | bytes, str]] = [
    ("messages not a list", {"input": {"messages": 5}}, "input.messages: expected a list"),
    ("no messages", {"input": {}}, "missing required field 'messages'"),
    ("input not an object", {"input": "hello"}, "input: expected an object"),
    ("message content int", {"input": {"messages": [{"role": "user", "content": 5}]}},
     "input.messages[0].content"),
    ("unknown role", {"input": {"messages": [{"role": "wizard", "content": "hi"}]}},
     "input.messages[0].role: unknown role 'wizard'"),
    ("huge message", {"input": {"messages": [{"role": "user", "content": HUGE}]}},
     "input.messages[0].content: 200001 characters"),
    ("non-UTF-8 body", b'{"assistant_id": "memory_manager", "input": {"messages": '
     b'[{"role": "user", "content": "\xff\xfe"}]}}', "Invalid JSON"),
    ("empty namespace label", {"input": GOOD, "config": {"configurable": {"namespace": ["memories", ""]}}},
     "namespace[1]: labels must not be empty"),
    ("dotted namespace label", {"input": GOOD, "context": {"namespace": ["mem.ories"]}},
     "namespace[0]: label 'mem.ories' must not contain '.'"),
    ("negative after_seconds", {"input": GOOD, "after_seconds": -5},
     "after_seconds: expected a number from 0"),
    ("huge after_seconds", {"input": GOOD, "after_seconds": 1e12},
     "after_seconds: expected a number from 0"),
    ("after_seconds a string", {"input": GOOD, "after_seconds": "soon"},
     "after_seconds: expected a number of seconds"),
]  # fmt: skip

CLIENT_CASES: list[tuple[str, Any, dict[str, Any], str]] = [
    ("payload a string", "hello", {}, "payload: expected a dict"),
    ("no messages", {}, {}, "payload: missing required field 'messages'"),
    ("empty messages", {"messages": []}, {}, "payload.messages: must hold at least one"),
    ("unknown role", {"messages": [{"role": "wizard", "content": "hi"}]}, {},
     "payload.messages[0].role"),
    ("no content", {"messages": [{"role": "user"}]}, {}, "payload.messages[0]: message has no 'content'"),
    ("huge message", {"messages": [{"role": "user", "content": HUGE}]}, {},
     "payload.messages[0].content"),
    ("negative after_seconds", GOOD, {"after_seconds": -1}, "after_seconds"),
    ("NaN after_seconds", GOOD, {"after_seconds": float("nan")}, "after_seconds"),
    ("empty thread id", GOOD, {"thread_id": " "}, "thread_id: must not be empty"),
    ("dotted user id in namespace", GOOD, {"config": {"configurable": {"user_id": "a.b"}}},
     "namespace[1]: label 'a.b' must not contain '.'"),
]  # fmt: skip


def _answer(http: httpx.Client, body: dict[str, Any] | bytes) -> str:
    tid = str(uuid.uuid4())
    http.post("/threads", json={"thread_id": tid}).raise_for_status()
    if isinstance(body, bytes):
        r = http.post(f"/threads/{tid}/runs/wait", content=body,
                      headers={"content-type": "application/json"})  # fmt: skip
    else:
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "memory_manager", **body})
    if r.status_code == 200:  # the run was created and failed: its error is the answer
        assert "__error__" in r.json(), r.text[:300]
        return str(r.json()["__error__"]["message"])
    assert r.status_code == 422, (r.status_code, r.text[:300])
    return str(r.json()["detail"])


def test_bad_runs_over_http_fail_clearly_and_the_server_keeps_serving(rserver):
    user = f"bi-{uuid.uuid4().hex[:6]}"
    named = 0
    with httpx.Client(base_url=rserver.url, timeout=60) as http, executor(rserver.url) as ex:
        for name, body, says in HTTP_CASES:
            answer = _answer(http, body)
            assert says in answer, (name, answer)
            named += 1
        ok = submit(ex, user, turn(user, 0)).result(timeout=60)  # another thread, still served
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        stored = memories(sdk, user)
    record(
        f"bad input over HTTP ({len(HTTP_CASES)} kinds)",
        len(HTTP_CASES), 0, 0, f"{named} clear errors naming the field",
        "then a good turn on another thread: processed",
    )  # fmt: skip
    assert ok.created and stored == [fact(user, 0)]


def test_client_refuses_bad_payloads_before_sending(rserver):
    refused = 0
    with executor(rserver.url) as ex:
        for name, payload, kwargs, says in CLIENT_CASES:
            kwargs = {"thread_id": "t", "config": {"configurable": {"user_id": "u"}}} | kwargs
            with pytest.raises(InvalidPayloadError) as info:
                ex.submit(payload, kwargs.pop("config"), **kwargs)
            assert says in str(info.value), (name, str(info.value))
            refused += 1
        assert ex._ledger.pending() == []  # nothing was queued for sending
    record(
        f"bad input at the client ({len(CLIENT_CASES)} kinds)",
        len(CLIENT_CASES), 0, 0, f"{refused} InvalidPayloadError before sending",
    )  # fmt: skip
