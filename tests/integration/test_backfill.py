"""`memory-reflect backfill` against a real `langgraph dev` (offline extractor).

Several users' conversations end as each user's memories; interrupted half-way
(``--limit``) and resumed, or a conversation processed by a process that died before
recording it, the result is the same with no duplicate; run again, nothing is created;
a malformed line is reported with its number and skipped.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from sdk_client.backfill import backfill_id
from sdk_client.cli import EXIT_CODES, cli
from sdk_client.contract import validate_thread_id
from sdk_client.records import BACKFILL_SUMMARY_KEY, backfill_namespace
from tests.server import quick_executor, stored

pytestmark = pytest.mark.integration

FACTS = {
    "ana": [["Hi! I live in Porto.", "I work at a bakery."], ["My cat is called Miso."]],
    "ben": [["I live in Oslo.", "I am allergic to peanuts."]],
    "cai": [["I speak Japanese."], ["I play the cello."], ["My sister is called Rita."]],
}
EXPECTED = {
    "ana": ["User lives in Porto.", "User works at a bakery.", "User's cat is called Miso."],
    "ben": ["User is allergic to peanuts.", "User lives in Oslo."],
    "cai": ["User plays the cello.", "User speaks Japanese.", "User's sister is called Rita."],
}


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


def users(tag: str) -> dict[str, str]:
    """The test's users: this test's own, so the session's server is shared safely."""
    return {name: f"{name}-{tag}" for name in FACTS}


def conversations(tag: str) -> list[dict]:
    lines = []
    for name, convs in FACTS.items():
        for i, turns in enumerate(convs):
            messages = []
            for turn in turns:
                messages += [
                    {"role": "user", "content": turn},
                    {"role": "assistant", "content": "Noted, thanks."},
                ]
            lines.append(
                {"thread_id": f"{name}-{tag}-{i}", "user_id": f"{name}-{tag}", "messages": messages}
            )
    return lines


def write(path: Path, lines: list[str | dict]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


@pytest.fixture
def backfill(server):
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        res = runner.invoke(cli, ["--url", server.url, "backfill", "--plain", *args])
        assert res.exit_code == code, res.output
        return res.output

    return invoke


@pytest.fixture
def memories(server):
    ex = quick_executor(server.url)
    yield lambda tag: {name: stored(ex, user) for name, user in users(tag).items()}
    ex.shutdown(wait=True)


def runs_on(server, tag: str) -> int:
    """Runs on the test's conversation threads (a thread not created yet has none)."""
    count = 0
    with get_sync_client(url=server.url, api_key=None) as sdk:
        for conv in conversations(tag):
            with contextlib.suppress(NotFoundError):
                count += len(sdk.runs.list(validate_thread_id(conv["thread_id"]), limit=100))
    return count


def test_backfill_turns_each_users_conversations_into_their_memories_and_skips_a_bad_line(
    backfill, memories, server, tmp_path, tag
):
    convs = conversations(tag)
    file = write(tmp_path / "chats.jsonl", [*convs[:2], '{"thread_id": "x", "user_id"', *convs[2:]])
    out = backfill(str(file), code=EXIT_CODES["usage"])  # a line was skipped: exit 2
    assert "6 in the file: 0 done before, 6 to do" in out
    assert "done in " in out and "6 conversations backfilled (16 messages, 6 runs" in out
    assert "  skipped: line 3: not valid JSON" in out
    assert memories(tag) == EXPECTED

    # Run again: every conversation is recorded done, so no run is created.
    before = runs_on(server, tag)
    again = backfill(str(file), code=EXIT_CODES["usage"])
    assert "6 in the file: 6 done before, 0 to do" in again
    assert "0 conversations backfilled (0 messages, 0 runs" in again
    assert runs_on(server, tag) == before == 6
    assert memories(tag) == EXPECTED

    with get_sync_client(url=server.url, api_key=None) as sdk:
        ns = list(backfill_namespace(backfill_id(file.read_bytes())))
        summary = sdk.store.get_item(ns, BACKFILL_SUMMARY_KEY)["value"]
        assert (summary["conversations"], summary["done"], summary["bad_lines"]) == (6, 6, 1)
        assert summary["finished"] is True


def test_interrupted_half_way_and_resumed_the_memories_are_the_same_without_duplicates(
    backfill, memories, server, tmp_path, tag
):
    file = write(tmp_path / "chats.jsonl", conversations(tag))
    dry = backfill(str(file), "--dry-run")
    assert "6 to do" in dry and "runs           6 to create" in dry
    assert dry.rstrip().endswith("dry run: nothing written")
    assert runs_on(server, tag) == 0, "a dry run creates nothing"

    first = backfill(str(file), "--limit", "3", "--concurrency", "2")
    assert "3 left for a later run (--limit)" in first
    assert "3 conversations backfilled" in first
    assert "3 conversations left: run the same command again to resume" in first

    rest = backfill(str(file))
    assert "6 in the file: 3 done before, 3 to do" in rest
    assert "3 conversations backfilled" in rest and "left:" not in rest
    assert memories(tag) == EXPECTED
    assert runs_on(server, tag) == 6, "one run per conversation over both runs"


def test_a_conversation_processed_but_never_recorded_is_sent_again_and_changes_nothing(
    backfill, memories, server, tmp_path, tag
):
    """A backfill killed after a run committed, before it wrote the conversation's record."""
    convs = conversations(tag)
    ex = quick_executor(server.url)
    try:
        first = convs[0]
        fut = ex.submit(
            {"messages": first["messages"]},
            {"configurable": {"user_id": first["user_id"]}},
            thread_id=first["thread_id"],
        )
        fut.result(timeout=30)
    finally:
        ex.shutdown(wait=True)
    file = write(tmp_path / "chats.jsonl", convs)
    out = backfill(str(file))
    assert "0 done before, 6 to do" in out and "6 conversations backfilled" in out
    # Its messages were processed already (stable ids): its new run wrote nothing, so
    # the backfill created the other five conversations' six memories, not eight.
    assert "memories +6 ~0" in out
    assert memories(tag) == EXPECTED
