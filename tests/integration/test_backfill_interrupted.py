"""`memory-reflect backfill` interrupted for real, then run again (real `langgraph dev`).

The CLI runs as its own process, so the interruptions are the real ones: SIGINT (what
Ctrl-C sends), SIGKILL (a killed process: no handler, no summary, no record of the
conversation in flight), and the server stopped and started again on the same port
and data directory while the backfill runs. Each interruption lands at the same
place: once the server's backfill record holds ``KILL_AFTER`` conversations done,
with ``--concurrency 1`` so exactly one conversation is in flight. Run again, every
user ends with the memories an uninterrupted backfill of the same file gives them
(the ``reference`` fixture, on other users), none twice, and the record holds every
conversation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client

from sdk_client.backfill import backfill_id
from sdk_client.cli import EXIT_CODES, cli
from sdk_client.records import BACKFILL_SUMMARY_KEY, backfill_done_keys, backfill_namespace
from tests.server import ROOT, isolated_env, quick_executor, run_server, stored, wait_until

# Minutes of servers and runs: in `make test-slow` (CI runs it), not `make test`.
pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Each user's facts, two a conversation, every one a different kind of fact so the
# offline extractor's de-duplication keeps them all (which it would not of two "I
# like …"): what is measured here is delivery, not de-duplication.
SAYINGS = {
    "ana": ["I live in Porto.", "I work at a bakery.", "My cat is called Miso.",
            "I speak Japanese.", "I play the cello.", "I am allergic to peanuts."],
    "ben": ["I live in Oslo.", "I work as a nurse.", "My dog is called Rex.",
            "I study physics.", "I drive a blue Volvo.", "I was born in Lyon."],
    "cai": ["I grew up in Quito.", "My sister is called Rita.", "I am vegetarian.",
            "I have two kids.", "My favorite color is green.", "I love hiking."],
    "dee": ["My name is Dana.", "I drink tea every morning.", "My brother is called Omar.",
            "I am 34 years old.", "I live in Lima.", "I play the violin."],
}  # fmt: skip
TURNS_PER_CONVERSATION = 2
CONVERSATIONS = sum(len(s) for s in SAYINGS.values()) // TURNS_PER_CONVERSATION  # 12
KILL_AFTER = 3
"""Conversations the record holds done when the interruption is sent."""


def write_file(path: Path, tag: str) -> Path:
    """The backfill's input for users ``<name>-<tag>``: three conversations a user, interleaved.

    Interleaved (each user's first conversation, then each one's second, …) so an
    interruption after a few conversations leaves every user half done.
    """
    lines = []
    for c in range(len(next(iter(SAYINGS.values()))) // TURNS_PER_CONVERSATION):
        for name, sayings in SAYINGS.items():
            messages = []
            for text in sayings[c * TURNS_PER_CONVERSATION : (c + 1) * TURNS_PER_CONVERSATION]:
                messages += [
                    {"role": "user", "content": text},
                    {"role": "assistant", "content": "Noted, thanks."},
                ]
            user = f"{name}-{tag}"
            lines.append({"thread_id": f"{user}-{c}", "user_id": user, "messages": messages})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def memories(url: str, tag: str) -> dict[str, list[str]]:
    """Each user's memory contents, sorted, a duplicate kept (so it shows)."""
    ex = quick_executor(url)
    try:
        return {name: stored(ex, f"{name}-{tag}") for name in SAYINGS}
    finally:
        ex.shutdown(wait=True)


def record_done(url: str, file: Path) -> int:
    """Conversations the server's record of this file's backfill says are done."""
    ns = list(backfill_namespace(backfill_id(file.read_bytes())))
    with get_sync_client(url=url, api_key=None) as sdk:
        items = sdk.store.search_items(ns, limit=100)["items"]
    return len(backfill_done_keys(items))


def summary(url: str, file: Path) -> dict:
    ns = list(backfill_namespace(backfill_id(file.read_bytes())))
    with get_sync_client(url=url, api_key=None) as sdk:
        return dict(sdk.store.get_item(ns, BACKFILL_SUMMARY_KEY)["value"])


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory) -> dict[str, list[str]]:
    """What an uninterrupted backfill of the same file gives its users."""
    tag = "ref" + uuid.uuid4().hex[:6]
    file = write_file(tmp_path_factory.mktemp("reference") / "chats.jsonl", tag)
    res = CliRunner().invoke(
        cli, ["--url", server.url, "backfill", "--plain", "--concurrency", "8", str(file)]
    )
    assert res.exit_code == 0, res.output
    got = memories(server.url, tag)
    # Every fact is a memory, once (6 a user), so the comparisons below mean something.
    assert all(len(set(m)) == len(m) == len(SAYINGS[name]) for name, m in got.items()), got
    return got


def _ctrl_c_as_at_a_terminal() -> None:
    # A suite started in the background (`make test-slow &`) has SIGINT ignored, and a
    # child inherits that: Python then never raises KeyboardInterrupt, and Ctrl-C is lost.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Cli:
    """``memory-reflect backfill`` in a process of its own, its output in a file."""

    def __init__(self, url: str, file: Path, *args: str) -> None:
        self.out = file.with_suffix(f".{uuid.uuid4().hex[:6]}.out")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "sdk_client.cli", "--url", url, "backfill", "--plain"]
        with self.out.open("w") as out:
            self.proc = subprocess.Popen(
                [*cmd, *args, str(file)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                preexec_fn=_ctrl_c_as_at_a_terminal,
            )  # fmt: skip

    def output(self) -> str:
        return self.out.read_text()

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def clis() -> Iterator[list[Cli]]:
    started: list[Cli] = []
    yield started
    for c in started:  # a failed test leaves no backfill behind
        c.stop()


def interrupt_half_way(url: str, file: Path, sig: signal.Signals | None, clis: list[Cli]) -> Cli:
    """Start a backfill, one conversation at a time, and send ``sig`` once KILL_AFTER are done.

    ``sig`` None: send nothing (the caller interrupts it some other way).
    """
    run = Cli(url, file, "--concurrency", "1")
    clis.append(run)
    wait_until(
        lambda: record_done(url, file) >= KILL_AFTER or run.proc.poll() is not None,
        30, 0.05, f"{KILL_AFTER} conversations recorded done",
    )  # fmt: skip
    assert run.proc.poll() is None, f"it ended before the interruption:\n{run.output()}"
    if sig is not None:
        run.proc.send_signal(sig)
    return run


def resume(url: str, file: Path, reference: dict[str, list[str]], tag: str) -> str:
    """Run the backfill again: it does the rest; the users' memories are the reference's."""
    res = CliRunner().invoke(cli, ["--url", url, "backfill", "--plain", "--concurrency", "4",
                                   str(file)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "left:" not in res.output
    assert memories(url, tag) == reference, "not what an uninterrupted backfill gives"
    assert record_done(url, file) == CONVERSATIONS, "a conversation is not recorded done"
    done = summary(url, file)
    assert (done["conversations"], done["done"], done["finished"]) == (CONVERSATIONS,) * 2 + (True,)
    return res.output


def test_ctrl_c_exits_130_says_so_and_the_next_run_does_the_rest(server, reference, tmp_path, clis):
    tag = uuid.uuid4().hex[:8]
    file = write_file(tmp_path / "chats.jsonl", tag)
    run = interrupt_half_way(server.url, file, signal.SIGINT, clis)
    assert run.wait(timeout=30) == EXIT_CODES["interrupted"] == 130, run.output()
    out = run.output()
    assert "interrupted in " in out, out
    assert "left: run the same command again to resume" in out, out
    # The conversation in flight at Ctrl-C is left to the server, not recorded done.
    done_before = record_done(server.url, file)
    assert KILL_AFTER <= done_before < CONVERSATIONS

    again = resume(server.url, file, reference, tag)
    assert f"{CONVERSATIONS} in the file: {done_before} done before" in again


def test_a_killed_backfill_run_again_gives_the_same_memories_without_duplicates(
    server, reference, tmp_path, clis
):
    tag = uuid.uuid4().hex[:8]
    file = write_file(tmp_path / "chats.jsonl", tag)
    run = interrupt_half_way(server.url, file, signal.SIGKILL, clis)
    assert run.wait(timeout=10) == -signal.SIGKILL
    # Killed: no summary line. The one conversation in flight was sent (the server
    # processes it) or not; either way it is not recorded done, so it is sent again.
    assert "interrupted" not in run.output() and "done in" not in run.output()
    done_before = record_done(server.url, file)
    assert KILL_AFTER <= done_before < CONVERSATIONS

    again = resume(server.url, file, reference, tag)
    assert f"{CONVERSATIONS} in the file: {done_before} done before" in again


def test_the_server_restarted_mid_backfill_then_run_again_completes_without_duplicates(
    reference, tmp_path, clis
):
    """SIGTERM (the dev server writes its data on the way out), a new server on the same data.

    The servers run without the semantic index, to save their start-up (the embedder's
    load, twice): these users' facts are all distinct, so the memories are the
    reference's with or without it.
    """
    tag = uuid.uuid4().hex[:8]
    file = write_file(tmp_path / "chats.jsonl", tag)
    workdir = tmp_path / "server"
    with run_server(isolated_env(), workdir=workdir, index=False) as first:
        port = first.port
        run = interrupt_half_way(first.url, file, None, clis)
        first.stop(signal.SIGTERM)
    with run_server(isolated_env(), port=port, workdir=workdir, index=False) as second:
        # The backfill process lives through the restart. Waiting on its conversation in
        # flight, it polls on until the new server answers, and usually finishes the
        # file itself. A submission made while no server answers fails once its retries
        # are spent, and then the whole backfill stops, told (exit 3); a conversation
        # whose run the stop lost is reported failed (exit 6). Never a hang.
        code = run.wait(timeout=120)
        said = {0: "done in ", EXIT_CODES["unreachable"]: "cannot reach",
                EXIT_CODES["failed"]: "  failed: "}  # fmt: skip
        assert code in said and said[code] in run.output(), (code, run.output())
        done_before = record_done(second.url, file)
        assert done_before >= KILL_AFTER, "the restart lost conversations recorded done"

        again = resume(second.url, file, reference, tag)
        assert f"{CONVERSATIONS} in the file: {done_before} done before" in again
