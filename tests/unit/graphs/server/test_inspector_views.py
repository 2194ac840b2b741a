"""The inspector page's pure view functions, run in Node against a stub DOM (no browser).

The page's script is loaded into a Node ``vm`` context whose ``document``,
``fetch`` and timers are inert stubs; the test then calls its view functions
on thread values shaped as the graph writes them and checks the HTML they
return. Skipped where Node is not installed (the browser test covers the page
end to end).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from graphs.server.inspector import STATIC_DIR

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")

HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const inert = new Proxy(function () {}, {
  get: (t, k) => (k === Symbol.toPrimitive ? () => "" : inert),
  set: () => true,
  apply: () => inert,
});
const context = {
  document: { querySelector: () => inert, querySelectorAll: () => [], activeElement: null },
  location: { pathname: "/inspector/", search: "", hash: "" },
  sessionStorage: { getItem: () => "", setItem: () => {} },
  window: { addEventListener: () => {} },
  fetch: () => new Promise(() => {}),
  setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0,
  URLSearchParams, Date, Math, Number, String, JSON, Map, Set, Promise, console,
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"), context);
const { vars, exprs } = JSON.parse(fs.readFileSync(0, "utf8"));
Object.assign(context, vars);
console.log(JSON.stringify(exprs.map((e) => vm.runInContext(e, context))));
"""


def evaluate(*exprs: str, **variables: object) -> list:
    """Evaluate JS expressions in the page's context (``variables`` as globals), in order."""
    assert NODE is not None
    proc = subprocess.run(
        [NODE, "-e", HARNESS, "--", str(STATIC_DIR / "inspector.js")],
        input=json.dumps({"vars": variables, "exprs": exprs}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


USAGE = {"model_calls": 2, "prompt_tokens": 1234, "completion_tokens": 56, "model_seconds": 0.84}
CHANGES = {
    "created": ["memories/ann/c5fdf0aa11bb22cc"],
    "updated": ["memories/ann/9d1e2f3a4b5c6d7e"],
    "deleted": ["memories/ann/0a1b2c3d4e5f6a7b"],
}
TEXTS = {
    "memories/ann/c5fdf0aa11bb22cc": {"before": None, "after": "User likes tea."},
    "memories/ann/9d1e2f3a4b5c6d7e": {"before": "User lives in Paris.", "after": "User <3 Rome."},
    "memories/ann/0a1b2c3d4e5f6a7b": {"before": "User has a cat.", "after": None},
}


def test_usage_reads_as_calls_tokens_and_time():
    llm, offline, old = evaluate(
        "usageText(usage)",
        "usageText({model_calls: 0, prompt_tokens: 0, completion_tokens: 0})",
        "usageText(null)",
        usage=USAGE,
    )
    assert llm == "2 model calls, 1,234 → 56 tokens, 840 ms model time"
    assert offline == "no model calls"
    assert old == ""


def test_usage_span_carries_the_numbers_for_scripts():
    [html] = evaluate("usageSpan(usage)", usage=USAGE)
    for attr in (
        'data-model-calls="2"',
        'data-prompt-tokens="1234"',
        'data-completion-tokens="56"',
    ):
        assert attr in html


def test_each_changed_key_shows_its_text_and_updates_show_before_and_after():
    [html] = evaluate("renderChanges(changes, texts)", changes=CHANGES, texts=TEXTS)
    items = html.split("<li")[1:]
    created, updated, deleted = items
    assert 'data-change="created"' in created and "User likes tea." in created
    assert "c5fdf0aa…" in created and 'title="memories/ann/c5fdf0aa11bb22cc"' in created
    assert 'data-text="updated"' in updated
    assert updated.index("User lives in Paris.") < updated.index("→") < updated.index("Rome")
    assert "User &lt;3 Rome." in updated, "memory text is escaped"
    assert 'data-change="deleted"' in deleted and "User has a cat." in deleted


def test_changes_without_recorded_text_still_list_their_keys():
    [html] = evaluate("renderChanges(changes)", changes=CHANGES)
    assert html.count("<li") == 3 and 'class="text"' not in html


def test_a_finished_burst_shows_what_the_run_spent():
    values = {
        "run_id": "r1", "submissions": ["s1"], "submission_id": "s1", "extractor": "openai:x",
        "timing": {"first_submitted_at": 100.0, "due_at": 101.0, "started_at": 101.2,
                   "finished_at": 102.0},
        "changes": CHANGES, "change_text": TEXTS, "usage": USAGE,
    }  # fmt: skip
    [html] = evaluate('renderBurst(finishedBurst("t", values, []))', values=values)
    assert 'data-prompt-tokens="1234"' in html and "User likes tea." in html


def test_a_memorys_timeline_shows_each_change_its_run_thread_and_id():
    changes = [
        {"id": "k@1", "kind": "created", "runId": "run-aaaaaaaa1", "threadId": "thread-bbbbbbbb1",
         "at": 1.0, "text": {"before": "", "after": "User lives in Porto."}},
        {"id": "k@2", "kind": "updated", "runId": "run-aaaaaaaa2", "threadId": None,
         "at": 2.0, "text": {"before": "User lives in Porto.", "after": "User <3 Lisbon."}},
        {"id": "k@3", "kind": "restored", "runId": None, "threadId": None,
         "at": 3.0, "text": {"before": "User <3 Lisbon.", "after": "User lives in Porto."}},
    ]  # fmt: skip
    html, empty, texts = evaluate(
        "timeline(changes)",
        "timeline([])",
        "[memText({content: {content: 'a'}}), memText({content: 'b'}), memText(null), "
        "memText({kind: 'Pet', content: {name: 'Rex'}})]",
        changes=changes,
    )
    assert empty == "" and texts == ["a", "b", "", '{"name":"Rex"}']
    created, updated, restored = html.split("<li")[1:]
    assert 'data-event="created"' in created and "#/thread/thread-bbbbbbbb1" in created
    assert "User lives in Porto." in created and ">k@1</code>" in created
    assert "by run" in updated and "#/thread/" not in updated  # no thread: no link
    assert updated.index("Porto") < updated.index("User &lt;3 Lisbon.")  # escaped, before → after
    assert 'data-event="restored"' in restored and "by run" not in restored
