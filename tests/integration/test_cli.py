"""Every `memory-reflect` command against a real `langgraph dev`, and `watch` during a burst."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid

import pytest
from click.testing import CliRunner

from sdk_client.cli import EXIT_CODES, cli
from sdk_client.cli.render import short_run
from tests.burst import Burst
from tests.server import ROOT, quick_executor, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def run(server):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, code: int = 0):
        res = runner.invoke(cli, ["--url", server.url, *args], input=input)
        assert res.exit_code == code, res.output
        return res.output

    return invoke


@pytest.fixture
def ns() -> str:
    return f"memories/cli-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def executor(server, ns):
    ex = quick_executor(server.url, tuple(ns.split("/")))
    yield ex
    ex.shutdown(wait=True)


def turn(text: str) -> str:
    return json.dumps([{"role": "user", "content": text}])


def test_submit_from_file_and_wait_processed_then_memories(run, ns, tmp_path):
    conversation = tmp_path / "chat.json"
    conversation.write_text(
        json.dumps({"messages": [{"role": "user", "content": "I live in Porto."}]})
    )
    out = run("submit", str(conversation), "-t", "cli-file", "-n", ns, "--wait", "processed")
    assert out.startswith("processed: submission ")
    (path,) = [line.split("created: ")[1] for line in out.splitlines() if "created: " in line]
    assert path.startswith(ns + "/")
    assert "  model: no model calls" in out.splitlines(), "the offline extractor calls no model"

    listing = run("memories", "list", "-n", ns)
    assert "1 memory in " + ns in listing and "User lives in Porto." in listing
    items = json.loads(run("memories", "list", "-n", ns, "--json"))
    assert [i["value"]["content"]["content"] for i in items] == ["User lives in Porto."]
    assert "Porto" in run("memories", "search", "Porto", "-n", ns)
    shown = json.loads(run("memories", "show", path))
    assert shown["value"]["content"]["content"] == "User lives in Porto."
    assert shown["key"] == path.rsplit("/", 1)[1]

    out = run("memories", "delete", path, input="y\n")
    assert f"deleted {path}" in out
    missing = run("memories", "show", path, code=EXIT_CODES["refused"])
    assert "no memory" in missing
    assert "no memory" in run("memories", "delete", path, "-y", code=EXIT_CODES["refused"])


def test_submit_stdin_status_pending_then_flush(run, ns):
    out = json.loads(
        run("submit", "-t", "cli-stdin", "-n", ns, "-a", "3", "--json", input=turn("I love tea."))
    )
    assert out["stage"] == "accepted" and out["run_id"]

    (pending,) = json.loads(run("status", "-t", "cli-stdin", "--json"))
    assert pending["thread"] == "cli-stdin" and pending["thread_id"] == out["thread_id"]
    assert pending["state"] in ("pending", "running")
    assert pending["inbox"] == 1
    if pending["state"] == "pending":
        assert pending["run_id"] == out["run_id"] and 0 < pending["due_in"] <= 3.0
    # The namespace's view finds the same thread through its inbox entry.
    by_ns = json.loads(run("status", "-n", ns, "--json"))
    assert [v["thread_id"] for v in by_ns] == [out["thread_id"]]

    assert "flushed: 1 thread(s) idle" in run("flush", "-t", "cli-stdin", "--timeout", "30")
    (done,) = json.loads(run("status", "-t", "cli-stdin", "--json"))
    assert done["state"] == "idle" and done["inbox"] == 0
    assert done["last_run"]["run_id"] == out["run_id"]
    assert done["last_run"]["messages"] == 1 and len(done["last_run"]["created"]) == 1
    # ... and through the last run's namespaces once the inbox is empty.
    table = run("status", "-n", ns)
    assert out["thread_id"][:8] in table and "+1 ~0 -0" in table
    assert "flushed" in run("flush", "-n", ns, "--timeout", "10")


def test_flush_times_out_while_work_is_pending(run, ns, executor):
    fut = executor.submit(
        {"messages": [{"role": "user", "content": "I love jazz."}]},
        thread_id="cli-slow",
        after_seconds=60,
    )
    fut.wait_accepted(timeout=30)
    try:
        out = run("flush", "-t", "cli-slow", "--timeout", "0.5", code=EXIT_CODES["timeout"])
        assert "still busy" in out and "cli-slow (pending)" in out
    finally:
        executor.cancel("cli-slow")


def test_status_of_an_unknown_thread_is_idle(run):
    (view,) = json.loads(run("status", "-t", f"never-{uuid.uuid4()}", "--json"))
    assert view["state"] == "idle" and view["last_run"] is None


def test_api_key_option_is_accepted_in_open_mode(server, run):
    # Open mode ignores keys; a server with MEMORY_API_KEYS is tested in test_auth.py.
    # Here: the key option is accepted and the request goes through.
    assert json.loads(run("--api-key", "anything", "status", "-t", "x", "--json"))


class _Lines:
    """Reads a process's stdout on a thread, so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join(timeout=10)

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        wait_until(lambda: any(text in line for line in self.lines), timeout, what=repr(text))


def test_watch_shows_a_burst_superseded_then_processed(server, executor, ns):
    """Five turns 0.3 s apart: watch sees each run superseded, then one run processing all."""
    env = {**os.environ, "LANGGRAPH_API_URL": server.url, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sdk_client.cli",
            "watch",
            "-t",
            "cli-burst",
            "--plain",
            "--until-idle",
            "--timeout",
            "90",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        out = _Lines(proc)
        out.wait_for("watching thread(s) cli-burst")
        texts = [
            "My name is Eve.",
            "I live in Oslo.",
            "I love skiing.",
            "I work at Statoil.",
            "My cat is called Pip.",
        ]
        futures = []
        # The offline path has no gate to hold a run, so the premise of one run (each turn
        # accepted before the previous one's run is due) is timed (tests/burst.py).
        timing = Burst(3.0)
        for text in texts:
            fut = timing.submit(executor, text, "cli-burst")
            # Each run is seen pending before the next submission supersedes it.
            out.wait_for(f"pending    run {short_run(fut.run_id)}")
            futures.append(fut)
        assert proc.wait(timeout=90) == 0, "".join(out.lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.join()
        assert proc.stdout is not None
        proc.stdout.close()
    text = "".join(out.lines)
    print(text)
    result = futures[-1].result(timeout=30)
    processed = [line for line in out.lines if "processed  run" in line]
    with timing.outcome():
        assert len([line for line in out.lines if "cli-burst    superseded " in line]) == 4
        assert len(processed) == 1
    assert short_run(result.run_id) in processed[0]
    assert "5 message(s) from 5 submission(s), memories +5 ~0 -0" in processed[0]
    final = next(line for line in reversed(out.lines) if "cli-burst" in line)
    assert "idle" in final and "+5 ~0 -0" in final
    # thread, state, run, due, inbox, superseded: 4 runs seen superseded
    assert final.split()[:6] == ["cli-burst", "idle", "-", "-", "0", "4"]
