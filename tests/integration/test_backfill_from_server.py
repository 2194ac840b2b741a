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

from sdk_client.cli import EXIT_CODES, cli
from sdk_client.contract import validate_thread_id
from tests.agent_graph import GRAPH_ID
from tests.server import ROOT, Server, isolated_env, quick_executor, run_server, stored

pytestmark = pytest.mark.integration

FACTS = {
    "ana": [["Hi! I live in Porto.", "I work at a bakery."], ["My cat is called Miso."]],
    "ben": [["I live in Oslo.", "I am allergic to peanuts."]],
}
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
