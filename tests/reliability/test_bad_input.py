"""Bad input at both boundaries: the client refuses it before sending, the server fails it clearly.

Over HTTP, a bad ``after_seconds`` or a non-object input is refused with 422 by the
server's request check (``graphs/server/guard.py``); anything else wrong inside the
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
from tests.reliability.support import (
    fact,
    memories,
    memories_mentioning,
    message,
    submit,
    turn,
)
from tests.server import quick_executor

pytestmark = pytest.mark.reliability


def http_cases(tag: str) -> list[tuple[str, dict[str, Any] | bytes, str]]:
    """(name, request body or raw bytes, what the answer must say); every text carries ``tag``.

    The tag is how the test finds, by searching the whole store afterwards, anything
    of these requests that reached memory.
    """
    good = message(f"I live in Rome-{tag}.")
    huge = f"{tag} ".ljust(200_001, "x")
    raw = (
        '{"assistant_id": "memory_manager", "input": {"messages": [{"role": "user", '
        f'"content": "{tag} '
    ).encode() + b'\xff\xfe"}]}}'
    return [
        ("messages not a list", {"input": {"messages": 5, "note": tag}},
         "input.messages: expected a list"),
        ("no messages", {"input": {"note": tag}}, "missing required field 'messages'"),
        ("input not an object", {"input": f"hello {tag}"}, "input: expected an object"),
        ("message content int", {"input": {"messages": [{"role": "user", "content": 5}]}},
         "input.messages[0].content"),
        ("unknown role", {"input": {"messages": [{"role": "wizard", "content": f"hi {tag}"}]}},
         "input.messages[0].role: unknown role 'wizard'"),
        ("huge message", {"input": {"messages": [{"role": "user", "content": huge}]}},
         "input.messages[0].content: 200001 characters"),
        ("non-UTF-8 body", raw, "Invalid JSON"),
        ("empty namespace label",
         {"input": good, "config": {"configurable": {"namespace": ["memories", ""]}}},
         "namespace[1]: labels must not be empty"),
        ("dotted namespace label", {"input": good, "context": {"namespace": ["mem.ories"]}},
         "namespace[0]: label 'mem.ories' must not contain '.'"),
        ("negative after_seconds", {"input": good, "after_seconds": -5},
         "after_seconds: expected a number from 0"),
        ("huge after_seconds", {"input": good, "after_seconds": 1e12},
         "after_seconds: expected a number from 0"),
        ("after_seconds a string", {"input": good, "after_seconds": "soon"},
         "after_seconds: expected a number of seconds"),
    ]  # fmt: skip


def client_cases(tag: str) -> list[tuple[str, Any, dict[str, Any], str]]:
    """(name, payload, other submit() arguments, what the error must say), tagged likewise."""
    good = message(f"I live in Rome-{tag}.")
    huge = f"{tag} ".ljust(200_001, "x")
    return [
        ("payload a string", f"hello {tag}", {}, "payload: expected a dict"),
        ("no messages", {"note": tag}, {}, "payload: missing required field 'messages'"),
        ("empty messages", {"messages": [], "note": tag}, {}, "payload.messages: must hold at least one"),
        ("unknown role", {"messages": [{"role": "wizard", "content": f"hi {tag}"}]}, {},
         "payload.messages[0].role"),
        ("no content", {"messages": [{"role": "user", "name": tag}]}, {},
         "payload.messages[0]: message has no 'content'"),
        ("huge message", {"messages": [{"role": "user", "content": huge}]}, {},
         "payload.messages[0].content"),
        ("negative after_seconds", good, {"after_seconds": -1}, "after_seconds"),
        ("NaN after_seconds", good, {"after_seconds": float("nan")}, "after_seconds"),
        ("empty thread id", good, {"thread_id": " "}, "thread_id: must not be empty"),
        ("dotted user id in namespace", good, {"config": {"configurable": {"user_id": "a.b"}}},
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
    user, tag = f"bi-{uuid.uuid4().hex[:6]}", f"bad{uuid.uuid4().hex[:8]}"
    cases = http_cases(tag)
    named = 0
    with httpx.Client(base_url=rserver.url, timeout=60) as http, quick_executor(rserver.url) as ex:
        for name, body, says in cases:
            answer = _answer(http, body)
            assert says in answer, (name, answer)
            named += 1
        # Another thread, still served; once its run has ended, so has every run before it
        # (/runs/wait returned only when each bad request's run, if any, had ended).
        ok = submit(ex, user, turn(user, 0)).result(timeout=60)
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        stored = memories(sdk, user)
        leaked = memories_mentioning(sdk, tag)
        control = memories_mentioning(sdk, user)  # the good turn's memory, found the same way
    reached, dups = len(set(leaked)), len(leaked) - len(set(leaked))
    record(
        f"bad input over HTTP ({len(cases)} kinds)",
        len(cases), reached, dups, f"{named} clear errors naming the field",
        "then a good turn on another thread: processed",
    )  # fmt: skip
    assert ok.created and stored == [fact(user, 0)]
    assert leaked == [], "a bad request's text reached memory"
    assert len(control) == 1, "the store-wide search must see a memory to count a leak"


def test_client_refuses_bad_payloads_before_sending(rserver):
    tag = f"bad{uuid.uuid4().hex[:8]}"
    cases = client_cases(tag)
    refused = 0
    with quick_executor(rserver.url) as ex:
        for name, payload, kwargs, says in cases:
            kwargs = {"thread_id": "t", "config": {"configurable": {"user_id": "u"}}} | kwargs
            with pytest.raises(InvalidPayloadError) as info:
                ex.submit(payload, kwargs.pop("config"), **kwargs)
            assert says in str(info.value), (name, str(info.value))
            refused += 1
        assert ex._ledger.pending() == []  # nothing was queued for sending
    with get_sync_client(url=rserver.url, api_key=None) as sdk:
        leaked = memories_mentioning(sdk, tag)
    record(
        f"bad input at the client ({len(cases)} kinds)",
        len(cases), len(set(leaked)), len(leaked) - len(set(leaked)),
        f"{refused} InvalidPayloadError before sending",
    )  # fmt: skip
    assert leaked == []
