"""The CLI without a server: parsing, input errors, exit codes, rendering, watch's events."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from sdk_client.cli import EXIT_CODES, cli, render
from sdk_client.cli.views import LastRun, ThreadSnapshot, parse_namespace
from sdk_client.errors import InvalidPayloadError
from sdk_client.types import ModelUsage, ThreadStatus
from tests.server import free_port

CLI_DOCS = Path(__file__).resolve().parents[3] / "docs" / "cli.md"

NOW = 1_800_000_000.0


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def text_of(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# ------------------------------------------------------------------ parsing


def test_help_lists_commands_and_exit_codes(runner):
    res = runner.invoke(cli, ["--help"])
    assert res.exit_code == 0
    for command in ("submit", "status", "watch", "memories", "flush"):
        assert command in res.output
    assert "3 server unreachable" in res.output and "5 timed out" in res.output


def test_exit_codes_are_the_documented_ones():
    """Scripts depend on them: docs/cli.md states each code's meaning; the code must agree."""
    section = CLI_DOCS.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"`(\d+)` ([a-z\s]+)", section)
    documented = {int(code): " ".join(meaning.split()) for code, meaning in found}
    # 130: interrupted (Ctrl-C), as shells report a SIGINT; a backfill resumes when run again.
    assert sorted(EXIT_CODES.values()) == sorted(documented) == [*range(7), 130]
    for name, code in EXIT_CODES.items():
        assert name[:4] in documented[code], (name, code, documented[code])


def test_memories_help_lists_subcommands(runner):
    res = runner.invoke(cli, ["memories", "--help"])
    assert res.exit_code == 0
    for sub in ("list", "search", "show", "delete"):
        assert sub in res.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("memories", ("memories",)),
        ("memories/alice", ("memories", "alice")),
        ('["memories", "a/b"]', ("memories", "a/b")),
    ],
)
def test_parse_namespace(text, expected):
    assert parse_namespace(text) == expected


@pytest.mark.parametrize(
    ("text", "field"), [("memories//x", "--namespace[1]"), ("a.b", "--namespace[0]")]
)
def test_parse_namespace_names_the_bad_label(text, field):
    with pytest.raises(InvalidPayloadError, match=field.replace("[", r"\[")):
        parse_namespace(text)


# --------------------------------------------------------- errors and codes


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "-t", "chat-1"],
        ["flush", "-t", "chat-1"],
        ["watch", "--until-idle", "--timeout", "1"],
        ["memories", "list"],
        ["memories", "show", "memories/k"],
    ],
)
def test_unreachable_server_says_which_url_and_how_to_start_one(runner, dead_url, args):
    res = runner.invoke(cli, ["--url", dead_url, *args])
    assert res.exit_code == EXIT_CODES["unreachable"], res.output
    assert f"cannot reach a memory-reflect server at {dead_url}" in res.output
    assert "make serve" in res.output and "langgraph dev" in res.output


def test_submit_to_unreachable_server(runner, dead_url):
    res = runner.invoke(
        cli,
        ["--url", dead_url, "submit", "-t", "chat-1", "-"],
        input='[{"role": "user", "content": "hi"}]',
    )
    assert res.exit_code == EXIT_CODES["unreachable"]
    assert dead_url in res.output


def test_url_comes_from_the_environment(runner, dead_url, monkeypatch):
    monkeypatch.setenv("LANGGRAPH_API_URL", dead_url)
    res = runner.invoke(cli, ["status"])
    assert res.exit_code == EXIT_CODES["unreachable"]
    assert dead_url in res.output


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"messages": [{"role": "user"}]}', "payload.messages[0]: message has no 'content'"),
        ('{"msgs": []}', "payload"),
    ],
)
def test_submit_bad_input_is_exit_2_naming_the_field(runner, dead_url, stdin, message):
    # The server is down on purpose: bad input is reported before contacting it.
    res = runner.invoke(cli, ["--url", dead_url, "submit", "-t", "chat-1"], input=stdin)
    assert res.exit_code == EXIT_CODES["usage"], res.output
    assert message in res.output


def test_submit_bad_after_seconds_and_thread(runner, dead_url):
    payload = '[{"role": "user", "content": "hi"}]'
    res = runner.invoke(cli, ["--url", dead_url, "submit", "-t", "c", "-a", "-1"], input=payload)
    assert res.exit_code == EXIT_CODES["usage"] and "after_seconds" in res.output
    res = runner.invoke(cli, ["--url", dead_url, "submit", "-t", " "], input=payload)
    assert res.exit_code == EXIT_CODES["usage"] and "--thread" in res.output


def test_submit_requires_a_thread(runner):
    res = runner.invoke(cli, ["submit"], input="[]")
    assert res.exit_code == EXIT_CODES["usage"]
    assert "--thread" in res.output


def test_bad_namespace_option_is_exit_2(runner, dead_url):
    res = runner.invoke(cli, ["--url", dead_url, "status", "-n", "a.b"])
    assert res.exit_code == EXIT_CODES["usage"]
    assert "--namespace[0]" in res.output


# ---------------------------------------------------------------- rendering


def view(state="idle", run=None, due=None, inbox=0, last=None, label="chat-1", tid="t-1"):
    return ThreadSnapshot(
        status=ThreadStatus(thread_id=tid, state=state, run_id=run, due_at=due, inbox=inbox),
        last=last,
        label=label,
    )


def last(run_id, messages=3, created=("memories/k1",), usage=None):
    return LastRun(
        run_id=run_id,
        messages=messages,
        submissions=messages,
        created=list(created),
        finished_at=NOW - 2,
        usage=usage,
    )


SPENT = ModelUsage(model_calls=2, prompt_tokens=1234, completion_tokens=56, model_seconds=0.84)


def test_status_table_shows_the_last_runs_tokens():
    views = [
        view(last=last("r-llm", usage=SPENT), label="llm", tid="t-1"),
        view(last=last("r-off", usage=ModelUsage()), label="offline", tid="t-2"),
        view(last=last("r-old"), label="old", tid="t-3"),
    ]
    text = text_of(render.status_table(views, NOW))
    assert "tokens in→out" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "1234→56" in rows["llm"]
    assert rows["offline"].split()[-4] == "0"  # no model calls
    assert rows["old"].split()[-4] == "-"  # a server that does not record usage


def test_view_json_has_the_last_runs_usage():
    out = render.view_json(view(last=last("r1", usage=SPENT)), NOW)
    assert out["last_run"]["usage"] == {
        "model_calls": 2,
        "prompt_tokens": 1234,
        "completion_tokens": 56,
        "model_seconds": 0.84,
    }
    assert render.view_json(view(last=last("r1")), NOW)["last_run"]["usage"] is None


def test_processed_event_says_what_the_run_spent():
    running = view("running", "r2", inbox=1)
    done = view(last=last("r2", messages=1, usage=SPENT))
    assert msgs({"t-1": running}, [done])[0] == (
        "processed  run r2: 1 message(s) from 1 submission(s), memories +1 ~0 -0, "
        "2 model calls, 1,234 → 56 tokens, 840 ms"
    )


def test_status_table_shows_countdown_inbox_and_last_result():
    views = [
        view("pending", "01a21338-492d-712b-84d0-55db8cfe51b8", due=NOW + 2.5, inbox=2),
        view(last=last("01a21338-765d-72d8-8106-3e5d24525736"), label="chat-2", tid="t-2"),
    ]
    text = text_of(render.status_table(views, NOW, {"t-1": 3}))
    assert "superseded" in text
    pending = next(line for line in text.splitlines() if "chat-1" in line)
    assert "pending" in pending and "01a21338-492d…" in pending and "in 2.5 s" in pending
    assert " 3 " in pending  # superseded count
    done = next(line for line in text.splitlines() if "chat-2" in line)
    assert "idle" in done and "01a21338-765d…" in done and "+1 ~0 -0" in done
    assert "2.0 s ago" in done


def test_status_table_without_superseded_column():
    text = text_of(render.status_table([view()], NOW))
    assert "superseded" not in text


def test_view_json():
    out = render.view_json(view("pending", "r1", due=NOW + 1.5, inbox=1), NOW)
    assert out["state"] == "pending" and out["due_in"] == 1.5 and out["inbox"] == 1
    assert out["last_run"] is None
    json.dumps(out)


def test_last_run_from_thread_values():
    values = {
        "run_id": "r9",
        "processed": [{}, {}],
        "submissions": ["a", "b"],
        "changes": {"created": ["m/1"], "updated": ["m/2"], "deleted": []},
        "namespaces": [["memories", "x"]],
        "timing": {"finished_at": NOW},
    }
    got = LastRun.from_values(values)
    assert got == LastRun("r9", 2, 2, ["m/1"], ["m/2"], [], [("memories", "x")], NOW)
    assert got is not None and got.usage is None
    values["usage"] = {"model_calls": 2, "prompt_tokens": 1234, "completion_tokens": 56,
                       "model_seconds": 0.84}  # fmt: skip
    assert LastRun.from_values(values).usage == SPENT
    assert LastRun.from_values(None) is None
    assert LastRun.from_values({"messages": []}) is None  # a thread whose run has not finished


def msgs(old, new):
    return [m for _, m in render.events(old, new, NOW)]


def test_events_follow_a_burst():
    r1, r2 = "01a21338-492d-aaaa", "01a21338-527b-bbbb"
    first = view("pending", r1, due=NOW + 3, inbox=1)
    assert msgs({}, [first]) == ["pending    run 01a21338-492d… due in 3.0 s"]
    second = view("pending", r2, due=NOW + 3, inbox=2)
    assert msgs({"t-1": first}, [second]) == [
        "superseded 01a21338-492d… → 01a21338-527b…",
        "pending    run 01a21338-527b… due in 3.0 s",
        "inbox      1 → 2",
    ]
    running = view("running", r2, inbox=2)
    assert msgs({"t-1": second}, [running]) == ["running    run 01a21338-527b…"]
    done = view(last=last(r2, messages=2))
    assert msgs({"t-1": running}, [done]) == [
        "processed  run 01a21338-527b…: 2 message(s) from 2 submission(s), memories +1 ~0 -0",
        "inbox      2 → 0",
    ]
    assert msgs({"t-1": done}, [done]) == []


def test_events_superseded_by_a_run_that_finished_between_polls():
    first = view("pending", "r1", due=NOW + 1, inbox=1)
    done = view(last=last("r2"))
    assert msgs({"t-1": first}, [done])[0] == "superseded r1 → r2"


def test_events_on_first_sight_report_state_only():
    assert msgs({}, [view(last=last("r1"))]) == []
    assert msgs({}, [view("running", "r1", inbox=1)]) == ["running    run r1"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"kind": "Memory", "content": {"content": "User likes tea."}}, "User likes tea."),
        ({"kind": "Profile", "content": {"name": "Ann", "age": 3}}, '{"age": 3, "name": "Ann"}'),
        ({"note": "raw"}, '{"note": "raw"}'),
    ],
)
def test_memory_text(value, text):
    assert render.memory_text(value) == text


def test_memory_table():
    items = [
        {
            "key": "k1",
            "value": {"content": {"content": "User likes tea."}},
            "updated_at": "2026-11-25T15:00:24.1+00:00",
            "score": None,
        }
    ]
    text = text_of(render.memory_table(items, ("memories", "ann")))
    assert "1 memory in memories/ann" in text
    assert "k1" in text and "User likes tea." in text and "2026-11-25 15:00:24" in text
    assert "score" not in text


def test_console_script_and_exports():
    from importlib.metadata import entry_points

    import sdk_client.cli

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "memory-reflect"]
    assert script.value == "sdk_client.cli:main"
    assert sorted(sdk_client.cli.__all__) == ["EXIT_CODES", "cli", "main"]
    assert sdk_client.cli.main.__doc__ and sdk_client.cli.cli.help


@pytest.mark.parametrize(
    ("namespace", "says"),
    [
        ("[bad", "--namespace: not a JSON list of labels"),
        ("[1]", "--namespace[0]: expected a string"),
        ("", "--namespace: must have at least one label"),
        ("memories/a.b", "--namespace[1]: label 'a.b' must not contain '.'"),
    ],
)
def test_a_malformed_namespace_is_exit_2_naming_the_problem(namespace, says):
    from click.testing import CliRunner

    from sdk_client.cli import EXIT_CODES, cli

    for args in (["status", "-n", namespace], ["memories", "list", "-n", namespace]):
        res = CliRunner().invoke(cli, ["--url", "http://127.0.0.1:9", *args])
        assert res.exit_code == EXIT_CODES["usage"] == 2, (args, res.output)
        assert says in res.output, (args, res.output)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "give a FILE, or --from-server URL --graph --user-key"),
        (["f.jsonl", "--graph", "agent"], "--graph goes with --from-server, not a FILE"),
        (["f.jsonl", "--from-server", "http://127.0.0.1:9"], "a FILE or --from-server, not both"),
        (["--from-server", "http://127.0.0.1:9", "--graph", "a"], "--user-key is required"),
        (["--from-server", "http://127.0.0.1:9", "--user-key", "u"], "--graph is required"),
    ],
)
def test_backfill_takes_a_file_or_a_server_and_says_what_is_missing(tmp_path, args, says):
    (tmp_path / "f.jsonl").write_text("")
    args = [str(tmp_path / a) if a == "f.jsonl" else a for a in args]
    res = CliRunner().invoke(cli, ["--url", "http://127.0.0.1:9", "backfill", *args])
    assert res.exit_code == EXIT_CODES["usage"], res.output
    assert says in res.output, res.output


def test_backfill_names_the_source_server_when_it_cannot_be_reached():
    source = f"http://127.0.0.1:{free_port()}"
    res = CliRunner().invoke(
        cli, ["backfill", "--from-server", source, "--graph", "agent", "--user-key", "user_id"]
    )
    assert res.exit_code == EXIT_CODES["unreachable"], res.output
    assert f"cannot reach a memory-reflect server at {source}" in res.output
