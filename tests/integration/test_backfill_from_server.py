"""`memory-reflect backfill --from-server` against real `langgraph dev` servers.

The source is a second deployment serving a tiny chat agent (:mod:`tests.agent_graph`)
whose threads were filled by running it, as an agent in production fills them; the
target is the session's memory server (offline extractor). Two users' threads end in
those users' memories; run again, nothing is created; a thread that gained a turn is
sent again and only the new turn is processed; a thread without the user metadata key
is reported and skipped.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from sdk_client._http import API_KEY_VARS
from sdk_client.cli import EXIT_CODES, cli
from sdk_client.contract import validate_thread_id
from tests.agent_graph import GRAPH_ID
from tests.server import (
    ALICE_KEY,
    KEYS,
    ROOT,
    Server,
    isolated_env,
    keyed_env,
    quick_executor,
    run_server,
    stored,
)

pytestmark = pytest.mark.integration

FACTS = {
    "ana": [["Hi! I live in Porto.", "I work at a bakery."], ["My cat is called Miso."]],
    "ben": [["I live in Oslo.", "I am allergic to peanuts."]],
}
NO_KEY_ENV: dict[str, str | None] = dict.fromkeys(API_KEY_VARS)
"""The CLI's environment with no API key in it (the tests' own may hold one)."""

EXPECTED = {
    "ana": ["User lives in Porto.", "User works at a bakery.", "User's cat is called Miso."],
    "ben": ["User is allergic to peanuts.", "User lives in Oslo."],
}


@pytest.fixture(scope="module")
def agent() -> Iterator[Server]:
    """A second deployment: the chat agent whose threads are backfilled."""
    graphs = {GRAPH_ID: str(ROOT / "tests" / "agent_graph.py") + ":graph"}
    with run_server(isolated_env(), graphs=graphs, index=False) as srv:
        yield srv


def chat(agent: Server, thread_id: str, text: str) -> None:
    """One user turn on the agent's thread, run to its end (the agent answers it)."""
    with get_sync_client(url=agent.url, api_key=None) as sdk:
        sdk.runs.wait(thread_id, GRAPH_ID, input={"messages": [{"role": "user", "content": text}]})


def new_thread(agent: Server, metadata: dict[str, str]) -> str:
    with get_sync_client(url=agent.url, api_key=None) as sdk:
        return str(sdk.threads.create(metadata=metadata)["thread_id"])


def runs_on(server: Server, threads: list[str]) -> int:
    """Runs on the target's threads of these source threads (one not created yet has none)."""
    count = 0
    with get_sync_client(url=server.url, api_key=None) as sdk:
        for tid in threads:
            with contextlib.suppress(NotFoundError):
                target = validate_thread_id(f"{GRAPH_ID}/{tid}")
                count += len(sdk.runs.list(target, limit=100))
    return count


def test_a_graphs_threads_end_in_their_users_memories_once_and_a_thread_without_user_is_skipped(
    agent, server
):
    tag = uuid.uuid4().hex[:8]
    threads = []
    for name, convs in FACTS.items():
        for turns in convs:
            tid = new_thread(agent, {"user": f"{name}-{tag}"})
            for turn in turns:
                chat(agent, tid, turn)
            threads.append(tid)
    orphan = new_thread(agent, {"channel": "web"})  # no "user": whose is unknown
    chat(agent, orphan, "I live in Rome.")

    runner = CliRunner()

    def backfill(*args: str, code: int = EXIT_CODES["usage"]) -> str:
        res = runner.invoke(
            cli,
            [
                "--url", server.url, "backfill", "--plain", "--from-server", agent.url,
                "--graph", GRAPH_ID, "--user-key", "user", *args,
            ],
        )  # fmt: skip
        assert res.exit_code == code, res.output
        return res.output

    ex = quick_executor(server.url)
    try:

        def memories() -> dict[str, list[str]]:
            return {name: stored(ex, f"{name}-{tag}") for name in FACTS}

        dry = backfill("--dry-run")
        assert "3 in the threads: 0 done before, 3 to do" in dry
        assert "10 to do (5 from users)" in dry, "the agent's answers are messages too"
        assert f"    thread {orphan}: metadata.user: missing" in dry
        assert runs_on(server, threads) == 0, "a dry run creates nothing"

        first = backfill()
        assert "3 conversations backfilled (10 messages, 3 runs" in first
        assert "1 bad thread skipped" in first
        assert f"  skipped: thread {orphan}: metadata.user: missing" in first
        assert memories() == EXPECTED

        # Run again over unchanged threads: all recorded done, no run created.
        again = backfill()
        assert "3 in the threads: 3 done before, 0 to do" in again
        assert "0 conversations backfilled (0 messages, 0 runs" in again
        assert runs_on(server, threads) == 3

        # A thread that gained a turn is sent again; only the new turn is processed.
        chat(agent, threads[0], "I speak Japanese.")
        grown = backfill()
        assert "3 in the threads: 2 done before, 1 to do" in grown
        assert "1 conversation backfilled (6 messages, 1 run, memories +1 ~0" in grown
        assert runs_on(server, threads) == 4
        assert memories() == {
            **EXPECTED,
            "ana": sorted([*EXPECTED["ana"], "User speaks Japanese."]),
        }
    finally:
        ex.shutdown(wait=True)


@pytest.fixture(scope="module")
def keyed_agent() -> Iterator[Server]:
    """The agent deployed with API keys: each thread is its creator's, read with that key."""
    graphs = {GRAPH_ID: str(ROOT / "tests" / "agent_graph.py") + ":graph"}
    with run_server(keyed_env(), graphs=graphs, index=False) as srv:
        yield srv


def test_a_keyed_source_is_read_with_its_key_and_gives_only_that_users_threads(keyed_agent, server):
    tag = uuid.uuid4().hex[:8]
    own: dict[str, str] = {}
    for name, text in (("alice", "I live in Lima."), ("bob", "I live in Cork.")):
        with get_sync_client(url=keyed_agent.url, api_key=KEYS[name]) as sdk:
            tid = str(sdk.threads.create(metadata={"user": f"{name}-{tag}"})["thread_id"])
            sdk.runs.wait(tid, GRAPH_ID, input={"messages": [{"role": "user", "content": text}]})
        own[name] = tid

    runner = CliRunner()
    source = ["--from-server", keyed_agent.url, "--graph", GRAPH_ID, "--user-key", "user"]

    def backfill(*args: str, code: int) -> str:
        res = runner.invoke(
            cli, ["--url", server.url, "backfill", "--plain", *source, *args], env=NO_KEY_ENV
        )
        assert res.exit_code == code, res.output
        return res.output

    # No key, or a key the source does not know: refused, named, nothing created.
    for args in ((), ("--from-api-key", "key-nobody-" + "n" * 16)):
        out = backfill(*args, code=EXIT_CODES["refused"])
        assert f"the source server {keyed_agent.url} refused" in out, out
        assert "set --from-api-key" in out, "the hint names the source's key, not the target's"
        assert runs_on(server, list(own.values())) == 0

    out = backfill("--from-api-key", ALICE_KEY, code=EXIT_CODES["ok"])
    assert "1 conversation backfilled (2 messages, 1 run" in out, out
    ex = quick_executor(server.url)
    try:
        assert stored(ex, f"alice-{tag}") == ["User lives in Lima."]
        assert stored(ex, f"bob-{tag}") == [], "bob's thread is not alice's to read"
    finally:
        ex.shutdown(wait=True)
    assert own["bob"] not in out
