"""Backfill without a server: reading lines, planning, the token estimate, what the CLI prints."""

from __future__ import annotations

import json
import re

import pytest

from sdk_client.backfill import (
    COMPLETION_TOKENS_PER_RUN,
    COMPLETION_TOKENS_PER_USER_MESSAGE,
    PROMPT_TOKENS_PER_RUN,
    Estimate,
    Outcome,
    Plan,
    Tally,
    backfill_id,
    conversation_key,
    parse_line,
    read_conversations,
    read_threads,
    search_threads,
    server_backfill_id,
    thread_conversation,
)
from sdk_client.cli.backfill import plan_lines, progress_line, summary_lines
from sdk_client.contract import message_id
from sdk_client.errors import InvalidPayloadError
from sdk_client.types import ModelUsage, SubmissionResult


def line(thread: str = "t1", user: str | None = "alice", *texts: str, **extra) -> str:
    data = {
        "thread_id": thread,
        "messages": [{"role": "user", "content": t} for t in texts or ["I live in Porto."]],
    }
    if user is not None:
        data["user_id"] = user
    return json.dumps(data | extra)


# ------------------------------------------------------------------ read


def test_a_line_is_a_conversation_in_its_users_namespace_with_stable_ids():
    conv = parse_line(line("alice-1", "alice", "I live in Porto.", "I work at a bakery."), 3)
    assert conv.line == 3 and conv.thread == "alice-1" and conv.user == "alice"
    assert conv.namespace == ("memories", "alice")
    assert [m["id"] for m in conv.messages] == [
        message_id("user", "I live in Porto."),
        message_id("user", "I work at a bakery."),
    ]
    assert conv.key == conversation_key(
        "alice-1", ("memories", "alice"), [m["id"] for m in conv.messages]
    )
    assert (
        parse_line(line("alice-1", "alice", "I live in Porto.", "I work at a bakery."), 9).key
        == conv.key
    )


def test_a_given_message_id_is_kept_and_the_key_follows_it():
    text = json.dumps(
        {
            "thread_id": "t",
            "user_id": "bob",
            "messages": [{"role": "human", "content": "hi", "id": "m-7"}],
        }
    )
    conv = parse_line(text, 1)
    assert conv.messages[0] == {"id": "m-7", "role": "user", "content": "hi"}


def test_a_lines_namespace_wins_over_the_template_and_needs_no_user():
    assert parse_line(line(user=None, namespace="team/support"), 1).namespace == ("team", "support")
    assert parse_line(line(user=None, namespace=["a/b", "c"]), 1).namespace == ("a/b", "c")
    conv = parse_line(line(user=None), 1, template=("memories", "shared"))
    assert conv.namespace == ("memories", "shared") and conv.user == "memories/shared"
    assert parse_line(
        line(thread="chat-9"), 1, template=("by-thread", "{thread_id}")
    ).namespace == ("by-thread", "chat-9")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"thread_id": "t", "user_id": "a", "messages": [', "not valid JSON"),
        ("[1, 2]", "expected an object"),
        (line(thread=""), "thread_id: required"),
        (
            json.dumps({"user_id": "a", "messages": [{"role": "user", "content": "x"}]}),
            "thread_id: required",
        ),
        (line(user=""), "user_id: expected a non-empty string"),
        (
            json.dumps({"thread_id": "t", "user_id": "a", "messages": []}),
            "conversation.messages: must hold at least one",
        ),
        (json.dumps({"thread_id": "t", "user_id": "a"}), "missing required field 'messages'"),
        (
            json.dumps(
                {"thread_id": "t", "user_id": "a", "messages": [{"role": "robot", "content": "x"}]}
            ),
            "unknown role 'robot'",
        ),
        (line(user=None), "user_id: required to fill the namespace memories/{user_id}"),
        (line(namespace="memories/a.b"), "must not contain '.'"),
    ],
)
def test_a_bad_line_is_refused_naming_what_is_wrong(text, error):
    with pytest.raises(
        InvalidPayloadError, match=error.replace("(", r"\(").replace("[", r"\[").replace("{", r"\{")
    ):
        parse_line(text, 1)


def test_reading_keeps_good_lines_and_reports_bad_ones_by_number_skipping_blank_ones():
    good, bad = read_conversations(
        [line("a"), "", "not json", line("b", "bob"), "   ", line("c", None)]
    )
    assert [(c.line, c.thread) for c in good] == [(1, "a"), (4, "b")]
    assert [(b.line, b.error.split(" (")[0].split(":")[0]) for b in bad] == [
        (3, "not valid JSON"),
        (6, "user_id"),
    ]


def test_the_backfill_id_is_the_contents_hash():
    assert backfill_id(b"x\n") == backfill_id(b"x\n") != backfill_id(b"x\ny\n")
    assert backfill_id(b"").startswith("bf-") and len(backfill_id(b"")) == 27


def test_a_long_conversation_is_chunked_in_order_by_messages_and_characters():
    conv = parse_line(line("t", "a", *[f"turn {i}" for i in range(7)]), 1)
    assert [len(c) for c in conv.chunks(3)] == [3, 3, 1]
    assert [m["content"] for c in conv.chunks(3) for m in c] == [f"turn {i}" for i in range(7)]
    big = parse_line(line("t", "a", "x" * 60, "y" * 60, "z" * 10), 1)
    assert [len(c) for c in big.chunks(50, max_chars=100)] == [1, 2]
    assert [len(c) for c in big.chunks(50, max_chars=10)] == [1, 1, 1], (
        "one message too big still goes"
    )


# ------------------------------------------------------------------ plan


def test_the_plan_sets_aside_what_is_done_and_a_repeated_conversation():
    good, bad = read_conversations(
        [line("a", "alice"), line("b", "bob"), line("a", "alice"), line("c", "carol"), "{"]
    )
    plan = Plan(good, bad, done=frozenset({good[1].key}))
    assert [c.thread for c in plan.todo] == ["a", "c"]
    assert plan.distinct == 3 and plan.done_before == 1 and plan.later == 0
    assert plan.users == ["alice", "carol"] and plan.messages == 2 and plan.runs == 2
    assert plan.namespaces == [("memories", "alice"), ("memories", "carol")]
    limited = Plan(good, bad, limit=1)
    assert [c.thread for c in limited.todo] == ["a"] and limited.later == 2
    assert Plan(good, done=frozenset(c.key for c in good)).todo == []


def test_runs_follow_the_chunk_bound():
    good, _ = read_conversations([line("a", "alice", *["I like tea."] * 5), line("b", "bob")])
    assert Plan(good, max_messages=2).runs == 3 + 1


def test_the_estimate_is_a_fixed_part_a_run_plus_characters_over_four():
    good, _ = read_conversations(
        [line("a", "alice", "x" * 400, "y" * 3), line("b", "bob", "z" * 8)]
    )
    est = Plan(good).estimate()
    assert est.prompt_tokens == (PROMPT_TOKENS_PER_RUN + 101) + (PROMPT_TOKENS_PER_RUN + 2)
    assert (
        est.completion_tokens
        == 2 * COMPLETION_TOKENS_PER_RUN + 3 * COMPLETION_TOKENS_PER_USER_MESSAGE
    )
    assert Estimate(1000, 500).cost(0.4, 1.6) == pytest.approx(0.4 + 0.8)
    assert Estimate(1000, 500).cost(0.4, None) == pytest.approx(0.4)
    assert Estimate(1000, 500).cost(None, None) is None


# ------------------------------------------------------------------ what it prints


def test_the_dry_run_says_what_it_would_do_and_the_offline_path_costs_no_tokens():
    good, bad = read_conversations(
        [line("a", "alice"), line("b", "bob", "I live in Oslo.", "I am a nurse."), "{"]
    )
    plan = Plan(good, bad, done=frozenset({good[0].key}))
    offline = plan_lines("chats.jsonl", "bf-1", plan, extraction="offline", concurrency=4)
    assert offline[0] == "backfill bf-1 of chats.jsonl"
    assert "2 in the file: 1 done before, 1 to do" in offline[1]
    assert "2 to do (2 from users)" in offline[2] and "1 (bob)" in offline[3]
    assert "1 to create" in offline[5] and "at most 4 at a time" in offline[5]
    assert "calls no model (0 tokens)" in offline[6]
    assert offline[-1].startswith("    line 3: not valid JSON")
    llm = plan_lines(
        "f", "bf-1", plan, extraction="llm", concurrency=4, price_prompt=0.4, price_completion=1.6
    )
    est = plan.estimate()
    assert f"~{est.prompt_tokens:,} prompt + ~{est.completion_tokens:,} completion" in "\n".join(
        llm
    )
    assert f"~{est.cost(0.4, 1.6):,.4f} at 0.4 / 1.6" in "\n".join(llm)
    unknown = plan_lines("f", "bf-1", plan, extraction=None, concurrency=4)
    assert "(if the server extracts with a model)" in "\n".join(unknown)


def test_progress_and_summary_lines_count_runs_once_and_say_how_to_resume():
    good, bad = read_conversations([line("a", "alice"), line("b", "bob"), line("c", "carol"), "{"])
    plan = Plan(good, bad)
    tally = Tally()
    usage = ModelUsage(model_calls=1, prompt_tokens=300, completion_tokens=20)
    result = SubmissionResult("s1", "t", "run-1", created=["memories/alice/k"], usage=usage)
    tally.run_done(result)
    tally.run_done(SubmissionResult("s2", "t", "run-1", created=["memories/alice/k"], usage=usage))
    tally.conversation_done(good[0])
    tally.conversation_failed(good[1], "the run failed")
    assert (tally.runs, tally.created, tally.prompt_tokens, tally.runs_failed) == (1, 1, 300, 1)
    assert progress_line(tally, 3, 3, 10.0) == (
        "backfill: 2/3 conversations (1 failed), 1/3 messages, runs 1 done / 1 failed, "
        "tokens 300 → 20, 10 s, ETA 5 s"
    )
    lines = summary_lines(plan, Outcome(tally, interrupted=True), 10.0)
    assert lines[0].startswith("interrupted in 10.0 s: 1 conversation backfilled (1 message, 1 run")
    assert "  failed: line 2 (thread b): the run failed" in lines
    assert (
        "  skipped: line 4: not valid JSON (Expecting property name enclosed in double quotes, column 2)"
        in lines
    )
    assert lines[-1] == "2 conversations left: run the same command again to resume"


# ------------------------------------------------------- a server's threads


def thread(
    thread_id: str = "8f0c6f0e-0000-4000-8000-000000000001",
    metadata: dict | None = None,
    messages: list | None = None,
) -> dict:
    """A thread as ``threads.search`` answers: LangChain message dicts in its values."""
    return {
        "thread_id": thread_id,
        "metadata": {"graph_id": "agent", "user": "alice"} if metadata is None else metadata,
        "values": {
            "messages": [
                {"type": "human", "content": "I live in Porto.", "id": "m-1"},
                {"type": "ai", "content": "Nice!", "id": "m-2", "tool_calls": []},
            ]
            if messages is None
            else messages
        },
    }


def test_a_thread_is_a_conversation_of_its_metadata_user_with_its_messages_ids():
    tid = "8f0c6f0e-0000-4000-8000-000000000001"
    conv = thread_conversation(thread(tid), 2, graph="agent", user_key="user")
    assert (conv.user, conv.namespace, conv.origin, conv.line) == (
        "alice",
        ("memories", "alice"),
        tid,
        2,
    )
    # Its own conversation key, never the source thread's UUID (which the target would reuse).
    assert conv.thread == f"agent/{tid}"
    assert [(m["id"], m["role"], m["content"]) for m in conv.messages] == [
        ("m-1", "user", "I live in Porto."),
        ("m-2", "assistant", "Nice!"),
    ]
    assert conv.key == conversation_key(conv.thread, conv.namespace, ["m-1", "m-2"])
    assert conv.where == f"thread {tid}"


def test_openai_messages_get_stable_ids_and_the_template_takes_the_thread_id():
    openai = [{"role": "user", "content": "I work at a bakery."}]
    conv = thread_conversation(
        thread("t-9", messages=openai),
        1,
        graph="agent",
        user_key="user",
        template=("memories", "{user_id}", "{thread_id}"),
    )
    assert conv.namespace == ("memories", "alice", "t-9")
    assert conv.messages[0]["id"] == message_id("user", "I work at a bakery.")


def test_a_thread_that_gained_messages_is_a_new_conversation_and_an_unchanged_one_is_not():
    before = thread_conversation(thread(), 1, graph="agent", user_key="user")
    same = thread_conversation(thread(), 7, graph="agent", user_key="user")
    grown = thread(messages=[*thread()["values"]["messages"], {"type": "human", "content": "Hi"}])
    after = thread_conversation(grown, 1, graph="agent", user_key="user")
    assert same.key == before.key, "its position in the listing is not part of it"
    assert after.key != before.key
    assert [m["id"] for m in after.messages][:2] == ["m-1", "m-2"]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (thread(metadata={"graph_id": "agent"}), "metadata.user: missing"),
        (thread(metadata={"user": 7}), "metadata.user: not a non-empty string (7)"),
        (thread(messages=[]), "values.messages: the thread's state holds no messages"),
        ({"thread_id": "t", "metadata": {"user": "a"}, "values": []}, "holds no messages"),
        (thread(messages=[{"type": "robot", "content": "x"}]), "unknown role 'robot'"),
    ],
)
def test_a_thread_without_its_user_or_messages_is_refused_naming_why(source, error):
    with pytest.raises(InvalidPayloadError, match=re.escape(error)):
        thread_conversation(source, 1, graph="agent", user_key="user")


def test_reading_threads_keeps_the_good_and_reports_the_bad_by_thread_id():
    threads = [thread("t-1"), thread("t-2", metadata={}), thread("t-3")]
    good, bad = read_threads(threads, graph="agent", user_key="user")
    assert [c.origin for c in good] == ["t-1", "t-3"]
    assert [(b.where, b.line) for b in bad] == [("thread t-2", 2)]
    plan = Plan(good, bad, unit="thread")
    lines = plan_lines("graph agent on http://h", "bf-2", plan, extraction="offline", concurrency=2)
    assert "2 in the threads: 0 done before, 2 to do" in lines[1]
    assert lines[-2:] == [
        "  bad threads    1, skipped:",
        "    thread t-2: metadata.user: missing; whose thread it is is unknown",
    ]
    summary = summary_lines(plan, Outcome(Tally()), 1.0)
    assert summary[0].endswith("0 done before, 1 bad thread skipped")
    assert "  skipped: thread t-2: metadata.user: missing; whose thread it is is unknown" in summary


def test_the_server_backfill_id_is_the_source_not_its_threads():
    assert server_backfill_id("http://h:1/", "agent") == server_backfill_id("http://h:1", "agent")
    assert server_backfill_id("http://h:1", "agent") != server_backfill_id("http://h:2", "agent")
    assert server_backfill_id("http://h:1", "agent") != server_backfill_id("http://h:1", "other")


def test_the_threads_are_searched_by_graph_page_after_page_oldest_first():
    flow = search_threads("agent", page=2)
    call = next(flow)
    assert (call.method, call.kwargs) == (
        "threads.search",
        {
            "metadata": {"graph_id": "agent"},
            "limit": 2,
            "offset": 0,
            "sort_by": "created_at",
            "sort_order": "asc",
        },
    )
    assert flow.send([thread("a"), thread("b")]).kwargs["offset"] == 2
    with pytest.raises(StopIteration) as done:
        flow.send([thread("c")])
    assert [t["thread_id"] for t in done.value.value] == ["a", "b", "c"]
