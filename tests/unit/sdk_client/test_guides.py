"""The docs' examples stay true to the API: every call binds to the real signature.

The Python snippets (docs/guides.md, the README, docs/executor.md) need a server,
FastAPI or a model key to run; the integration tests named next to each guide run
the same calls for real. Here each snippet is compiled, the type of every variable
that holds one of our executors or Futures (or langmem's) is inferred from the code,
and every call on it is bound to the real signature with ``inspect.Signature.bind``:
an unknown keyword, a missing argument or a method that does not exist fails.

The ``memory-reflect`` command lines in the docs are parsed by the CLI's own click
app without running: an unknown command or option, a missing value or a bad number fails.
"""

from __future__ import annotations

import ast
import inspect
import re
import shlex
import sys
import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

import sdk_client
from sdk_client.cli import cli

ROOT = Path(__file__).resolve().parents[3]
GUIDES = ROOT / "docs" / "guides.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "README.md"]
CHECKED_MODULES = {"sdk_client", "langmem"}
"""Calls to names imported from these are bound; so are calls on what they return."""


def snippets(path: Path, lang: str = "python") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.S)


def all_python_snippets() -> list[tuple[str, str]]:
    return [(p.relative_to(ROOT).as_posix(), s) for p in PAGES for s in snippets(p)]


def test_there_is_a_guide_per_use():
    text = GUIDES.read_text()
    for title in [
        "LangGraph entrypoint",
        "FastAPI",
        "serverless",
        "async code",
        "In-process",
        "Studio",
        "JavaScript",
        "schedule",
    ]:
        assert re.search(rf"^## .*{title}", text, flags=re.M | re.I), title
    assert len(snippets(GUIDES)) == 6


def test_the_javascript_guide_shows_the_code_its_test_runs():
    """docs/examples/js/agent.mjs is what tests/integration/test_js_agent.py runs with Node."""
    (shown,) = snippets(GUIDES, "javascript")
    assert shown == (ROOT / "docs" / "examples" / "js" / "agent.mjs").read_text()


# --- Python: infer what each variable holds, bind every call ----------------------------


def _key(node: ast.expr) -> str | None:
    """The name a value is known by: ``x`` for ``x``, ``memory`` for ``app.state.memory``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _returns(func: Any) -> Any:
    """What ``func`` returns, if that is a class (its return annotation, resolved)."""
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:  # annotations only importable under TYPE_CHECKING
        ann = inspect.signature(func).return_annotation
        module = sys.modules.get(getattr(func, "__module__", ""), None)
        hint = getattr(module, ann, None) if isinstance(ann, str) else ann
    return hint if isinstance(hint, type) else None


class Snippet:
    """One snippet: the names it imports from the checked modules, and what variables hold."""

    def __init__(self, code: str) -> None:
        self.tree = ast.parse(code)
        compile(self.tree, "<snippet>", "exec")
        self.imported: dict[str, Any] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module in CHECKED_MODULES:
                module = __import__(node.module, fromlist=["_"])
                for alias in node.names:
                    if node.module == "sdk_client":
                        assert alias.name in sdk_client.__all__, alias.name
                    self.imported[alias.asname or alias.name] = getattr(module, alias.name)
        self.types: dict[str, type] = {}
        while self._infer():  # until nothing new: `fut = executor.submit(...)` needs `executor`
            pass

    def type_of(self, node: ast.expr) -> type | None:
        """The class of what ``node`` evaluates to, when the snippet says so."""
        if isinstance(node, ast.Await):  # awaiting a call gives what the coroutine returns
            node = node.value
            if not isinstance(node, ast.Call):
                return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.imported:
                made = self.imported[func.id]
                return made if isinstance(made, type) else _returns(made)
            owner = self.type_of(func.value) if isinstance(func, ast.Attribute) else None
            if owner is not None and isinstance(func, ast.Attribute):
                return _returns(getattr(owner, func.attr, None))
            return None
        key = _key(node)
        return self.types.get(key) if key else None

    def _infer(self) -> bool:
        found = dict(self.types)
        for node in ast.walk(self.tree):
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.With | ast.AsyncWith):  # __enter__ returns the executor
                pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
            for target, value in pairs:
                kind, key = self.type_of(value), _key(target)
                if kind is not None and key:
                    found[key] = kind
        changed = found != self.types
        self.types = found
        return changed

    def calls(self) -> Iterator[tuple[str, Any, ast.Call, bool]]:
        """(what, callable, call, is_method) for every call whose target is known."""
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.imported:
                yield func.id, self.imported[func.id], node, False
            elif isinstance(func, ast.Attribute):
                owner = self.type_of(func.value)
                if owner is not None:
                    assert hasattr(owner, func.attr), f"{owner.__name__} has no {func.attr}"
                    plain = isinstance(inspect.getattr_static(owner, func.attr), staticmethod)
                    target = getattr(owner, func.attr)
                    yield f"{owner.__name__}.{func.attr}", target, node, not plain

    def missing_attributes(self) -> list[str]:
        """``owner.name`` read (or called) in the snippet where ``owner`` has no ``name``."""
        return [
            f"{owner.__name__}.{node.attr}"
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Attribute)
            and (owner := self.type_of(node.value)) is not None
            and not hasattr(owner, node.attr)
        ]


def bind(target: Any, call: ast.Call, is_method: bool) -> None:
    """Bind the call's arguments to ``target``'s signature (values are placeholders)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        pytest.fail("a snippet call with *args or **kwargs cannot be checked; spell it out")
    args = [object()] * (len(call.args) + is_method)
    inspect.signature(target).bind(*args, **{k.arg: object() for k in call.keywords if k.arg})


@pytest.mark.parametrize(
    ("page", "code"), all_python_snippets(), ids=lambda v: v if v.endswith(".md") else ""
)
def test_snippet_calls_bind_to_the_real_signatures(page, code):
    snippet = Snippet(code)
    assert snippet.missing_attributes() == [], page
    checked = []
    for what, target, call, is_method in snippet.calls():
        try:
            bind(target, call, is_method)
        except TypeError as err:
            pytest.fail(f"{page}, line {call.lineno}: {what}(...): {err}")
        checked.append(what)
    assert checked, f"{page}: a snippet that calls none of our API"


def test_guides_use_one_of_our_executors():
    for code in snippets(GUIDES):
        used = Snippet(code).imported.values()
        assert any(getattr(c, "__name__", "").endswith("ReflectionExecutor") for c in used)


BROKEN = """
from sdk_client import ReflectionExecutor
executor = ReflectionExecutor("memory_manager", ("memories",))
fut = executor.submit({"messages": []}, thread_id="t", after_secs=600, bogus_kw=1)
fut.wait_accepted(timeout=10, nope=3)
executor.no_such_method()
"""


def test_a_call_that_does_not_bind_is_caught():
    """The check itself: the mistakes of issue 19's README copy are each found."""
    snippet = Snippet(BROKEN)
    errors = []
    with pytest.raises(AssertionError, match="ReflectionExecutor has no no_such_method"):
        for what, target, call, is_method in snippet.calls():
            try:
                bind(target, call, is_method)
            except TypeError as err:
                errors.append((what, str(err)))
    assert errors == [
        ("ReflectionExecutor.submit", "got an unexpected keyword argument 'after_secs'"),
        ("SubmissionFuture.wait_accepted", "got an unexpected keyword argument 'nope'"),
    ]


# --- The CLI lines: parsed by the click app, not run --------------------------------------

COMMAND = re.compile(r"^\s*(?:\$ |\| )?(memory-reflect (?:--?\w|[a-z]).*)$")
INLINE = re.compile(r"`(memory-reflect [^`]+)`")


def cli_lines() -> list[tuple[str, str, bool]]:
    """(where, command line, complete?) for every ``memory-reflect`` invocation in the docs.

    Lines in code blocks are complete commands; inline spans in prose may only name a
    command and some of its options (`memory-reflect retry`), so they are parsed leniently.
    """
    found = []
    for page in PAGES:
        text = page.read_text()
        where = page.relative_to(ROOT).as_posix()
        for lang, block in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S):
            if lang not in {"", "bash", "sh", "console"}:
                continue
            for line in block.splitlines():
                if m := COMMAND.match(line):
                    found.append((where, m.group(1).split(" #")[0].strip(), True))
        prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        found += [(where, m, False) for m in INLINE.findall(prose)]
    return found


def _remaining(ctx: click.Context) -> list[str]:
    """The tokens a group left for its subcommand.

    Click 8 keeps the subcommand's name apart (``protected_args``, deprecated); Click 9
    keeps every remaining token in ``args``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*getattr(ctx, "protected_args", []), *ctx.args]


def parse(argv: list[str], complete: bool) -> click.Command:
    """Parse ``argv`` down to the last subcommand as click would, without running anything.

    Files named on the command line are opened by the command, not here: their
    parameters are parsed as strings.
    """
    ctx = cli.make_context("memory-reflect", list(argv), resilient_parsing=not complete)
    command: click.Command = cli
    while isinstance(command, click.Group) and _remaining(ctx):
        name, sub, rest = command.resolve_command(ctx, _remaining(ctx))
        assert sub is not None, f"no command {rest[:1]}"
        files = [p for p in sub.params if isinstance(p.type, click.File)]
        saved = [p.type for p in files]
        try:
            for p in files:
                p.type = click.STRING
            ctx = sub.make_context(name or "", rest, parent=ctx, resilient_parsing=not complete)
        finally:
            for p, kind in zip(files, saved, strict=True):
                p.type = kind
        command = sub
    return command


def test_docs_have_cli_lines_in_code_and_prose():
    lines = cli_lines()
    assert sum(complete for *_, complete in lines) >= 10
    assert any(not complete for *_, complete in lines)


@pytest.mark.parametrize(("where", "line", "complete"), cli_lines(), ids=lambda v: str(v)[:60])
def test_cli_line_parses(where, line, complete):
    argv = shlex.split(line)[1:]
    try:
        command = parse(argv, complete)
    except click.exceptions.Exit as done:  # --help / --version: parsed, and would exit 0
        assert done.exit_code == 0
        return
    except click.UsageError as err:
        pytest.fail(f"{where}: `{line}`: {err.format_message()}")
    assert command is not cli, f"{where}: `{line}` names no command"


@pytest.mark.parametrize(
    "line",
    [
        "memory-reflect submit chat.json -t t --bogus 1",  # unknown option
        "memory-reflect submit chat.json -t t -a soon",  # not a number
        "memory-reflect submit chat.json",  # -t is required
        "memory-reflect sumbit chat.json -t t",  # no such command
        "memory-reflect memories lists -n memories",  # no such subcommand
    ],
)
def test_a_wrong_cli_line_fails_to_parse(line):
    with pytest.raises(click.UsageError):
        parse(shlex.split(line)[1:], complete=True)
