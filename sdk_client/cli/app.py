"""The ``memory-reflect`` command: submit, inspect and wait on deferred memory work.

Exit codes (also in ``memory-reflect --help``)::

    0  success
    1  unexpected error (a bug: please report it with the traceback)
    2  bad usage or input (an option, the payload, a namespace; the message names it)
    3  the server is unreachable (the message says which URL and how to start one)
    4  the server refused the request (e.g. 401 wrong API key, 404 no such memory)
    5  timed out (flush, watch --until-idle, submit --wait, a backfill's run)
    6  the run that should process a submission failed (submit --wait processed, backfill)
  130  interrupted (Ctrl-C; backfill: run it again to resume)
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import IO, Any, NoReturn

import click
import httpx
from langgraph_sdk.client import SyncLangGraphClient
from rich.console import Console
from rich.live import Live

from sdk_client._flows import Flows, ServerFeatures, erase, run_sync
from sdk_client._http import API_KEY_VARS, DEFAULT_URL, HttpSettings, RetryPolicy
from sdk_client.backfill import (
    DEFAULT_TEMPLATE,
    Backfill,
    Plan,
    Tally,
    backfill_id,
    read_conversations,
    read_threads,
    search_threads,
    server_backfill_id,
)
from sdk_client.cli import render
from sdk_client.cli.backfill import ProgressDisplay, plan_lines, summary_lines
from sdk_client.cli.views import (
    GRAPH_ID,
    ThreadSnapshot,
    parse_namespace,
    resolve_threads,
    snapshot,
    thread_ids_in,
)
from sdk_client.contract import META_PATH, normalize_payload, validate_after_seconds
from sdk_client.errors import (
    ConsolidationError,
    FlushTimeoutError,
    HistoryNotFoundError,
    InvalidPayloadError,
    NotAcceptedError,
    ProcessingFailedError,
)
from sdk_client.executor import ReflectionExecutor
from sdk_client.types import ModelUsage

__all__ = ["EXIT_CODES", "cli", "main"]

EXIT_CODES = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "unreachable": 3,
    "refused": 4,
    "timeout": 5,
    "failed": 6,
    "interrupted": 130,
}
"""Exit status by outcome; documented in the module docstring and ``--help``."""

DEFAULT_NAMESPACE = "memories"
"""The graph's default namespace (``Context.namespace``), as the CLI writes it."""

_EPILOG = """\b
Exit codes: 0 ok, 1 unexpected error, 2 bad usage or input, 3 server unreachable,
4 server refused the request (e.g. 401, 404), 5 timed out, 6 processing failed,
130 interrupted.

\b
Namespaces are written as labels separated by '/', e.g. memories/alice
(or as a JSON list). Threads are any string key or a UUID, as with the executor.
"""


class ServerUnreachableError(click.ClickException):
    """No server answered at the URL."""

    exit_code = EXIT_CODES["unreachable"]

    def __init__(self, url: str, err: BaseException) -> None:
        super().__init__(
            f"cannot reach a memory-reflect server at {url} ({type(err).__name__}: {err}).\n"
            "Start one with `make serve` (or `langgraph dev --no-browser --n-jobs-per-worker 10` "
            "in the project), or point --url / LANGGRAPH_API_URL at a running server."
        )


class _BadInputError(click.ClickException):
    exit_code = EXIT_CODES["usage"]


class ServerRefusedError(click.ClickException):
    """The server answered with an HTTP error, or has no such item."""

    exit_code = EXIT_CODES["refused"]


class WaitTimeoutError(click.ClickException):
    """What the command waited for did not happen in time."""

    exit_code = EXIT_CODES["timeout"]


class _RunFailedError(click.ClickException):
    exit_code = EXIT_CODES["failed"]


@dataclass
class Settings:
    """Global options, and the HTTP client built from them on first use."""

    url: str
    api_key: str | None
    graph: str
    _client: SyncLangGraphClient | None = field(default=None, repr=False)

    def client(self) -> SyncLangGraphClient:
        """A client for the server, after checking that the server answers."""
        if self._client is None:
            http = HttpSettings(
                self.url,
                self.api_key,
                timeout=httpx.Timeout(30.0, connect=5.0),
                user_agent="memory-reflect-cli",
                reads_are_uses=False,  # an operator looking keeps no memory from forgetting
            ).http()
            try:
                http.get("/ok").raise_for_status()
            except httpx.TransportError as err:
                http.close()
                raise ServerUnreachableError(self.url, err) from err
            click.get_current_context().call_on_close(http.close)
            self._client = SyncLangGraphClient(http)
        return self._client


def _refused(
    err: httpx.HTTPStatusError, who: str = "the server", key_option: str = "--api-key"
) -> ServerRefusedError:
    """The refusal named: ``who`` refused it, and ``key_option`` is where its key goes."""
    req, resp = err.request, err.response
    try:
        detail = resp.json().get("detail", resp.text)
    except ValueError:
        detail = resp.text
    hint = f" (set {key_option} or LANGGRAPH_API_KEY)" if resp.status_code in (401, 403) else ""
    return ServerRefusedError(
        f"{who} refused {req.method} {req.url.path}: {resp.status_code} "
        f"{resp.reason_phrase}: {detail}{hint}"
    )


class _Group(click.Group):
    """A group that turns the package's errors into a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except httpx.HTTPStatusError as err:
            raise _refused(err) from err
        except httpx.TransportError as err:
            raise ServerUnreachableError(ctx.obj.url if ctx.obj else "?", err) from err
        except InvalidPayloadError as err:
            raise _BadInputError(str(err)) from err
        except (HistoryNotFoundError, ConsolidationError) as err:
            raise ServerRefusedError(str(err)) from err
        except (FlushTimeoutError, TimeoutError) as err:
            raise WaitTimeoutError(str(err) or "timed out") from err
        except ProcessingFailedError as err:
            raise _RunFailedError(str(err)) from err
        except NotAcceptedError as err:
            cause = err.__cause__
            if isinstance(cause, httpx.HTTPStatusError):
                raise _refused(cause) from err
            raise ServerUnreachableError(ctx.obj.url, cause or err) from err


def _console() -> Console:
    # Outside a terminal (pipes, CI, tests) rich would wrap tables at 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


@click.group(cls=_Group, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    envvar="LANGGRAPH_API_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Server URL (env LANGGRAPH_API_URL).",
)
@click.option(
    "--api-key",
    envvar=list(API_KEY_VARS),
    default=None,
    help="Sent as x-api-key, for servers with MEMORY_API_KEYS set (env LANGGRAPH_API_KEY).",
)
@click.option(
    "--graph", default=GRAPH_ID, show_default=True, help="Graph or assistant id on the server."
)
@click.version_option(package_name="memory-reflect")
@click.pass_context
def cli(ctx: click.Context, url: str, api_key: str | None, graph: str) -> None:
    """Submit conversations to a memory-reflect server and watch them become memories."""
    ctx.obj = Settings(url=url.rstrip("/"), api_key=api_key or None, graph=graph)


def _settings() -> Settings:
    settings: Settings = click.get_current_context().find_object(Settings)  # type: ignore[assignment]
    return settings


# ---------------------------------------------------------------- submit


def _read_payload(stream: IO[str]) -> dict[str, Any]:
    name = getattr(stream, "name", "stdin")
    try:
        data = json.load(stream)
    except json.JSONDecodeError as err:
        raise InvalidPayloadError(f"{name}: not valid JSON ({err})") from None
    # A bare list of messages is accepted as {"messages": [...]}.
    return {"messages": data} if isinstance(data, list) else data


@cli.command()
@click.argument("file", type=click.File("r"), default="-")
@click.option("-t", "--thread", required=True, help="Conversation key (any string) or UUID.")
@click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True)
@click.option(
    "-a", "--after-seconds", type=float, default=0.0, show_default=True, help="Quiet period."
)
@click.option(
    "--wait",
    type=click.Choice(["accepted", "processed"]),
    default="accepted",
    show_default=True,
    help="Return once the server holds it, or once a run has processed it.",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def submit(
    file: IO[str],
    thread: str,
    namespace: str,
    after_seconds: float,
    wait: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Submit a conversation (JSON from FILE, or stdin with '-').

    The JSON is {"messages": [...]} or a bare list of messages, each
    {"role": ..., "content": ...}.
    """
    settings = _settings()
    payload = _read_payload(file)
    ns = parse_namespace(namespace)
    # Bad input is reported (exit 2) before the server is contacted; submit() checks again.
    normalize_payload(payload)
    validate_after_seconds(after_seconds)
    resolve_threads([thread], settings.api_key)
    settings.client()  # fail fast, with the hint, when nothing listens
    with ReflectionExecutor(
        settings.graph,
        ns,
        url=settings.url,
        api_key=settings.api_key,
        sender_threads=1,
        # Also bounds how long leaving the executor waits for its watcher thread.
        poll_interval=0.1,
    ) as executor:
        fut = executor.submit(payload, thread_id=thread, after_seconds=after_seconds)
        fut.wait_accepted(timeout)
        out: dict[str, Any] = {
            "submission_id": fut.submission_id,
            "thread": thread,
            "thread_id": fut.thread_id,
            "run_id": fut.run_id,
            "stage": "accepted",
        }
        if wait == "processed":
            result = fut.result(timeout)
            out.update(
                stage="processed",
                run_id=result.run_id,
                created=result.created,
                updated=result.updated,
                deleted=result.deleted,
                usage=None if result.usage is None else asdict(result.usage),
            )
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(
        f"{out['stage']}: submission {out['submission_id']} on thread {thread} "
        f"({out['thread_id']}), run {out['run_id']}"
    )
    for kind in ("created", "updated", "deleted"):
        for path in out.get(kind, []):
            click.echo(f"  {kind}: {path}")
    if out.get("usage") is not None:
        click.echo(f"  model: {ModelUsage(**out['usage']).describe()}")


# ----------------------------------------------------- status/watch/flush

_SELECT = [
    click.option(
        "-t",
        "--thread",
        "threads",
        multiple=True,
        help="A thread key or UUID (repeatable). Default: the namespace's threads.",
    ),
    click.option(
        "-n",
        "--namespace",
        default=DEFAULT_NAMESPACE,
        show_default=True,
        help="Whose threads to show when no --thread is given.",
    ),
    click.option(
        "--limit",
        type=click.IntRange(1, 1000),
        default=50,
        show_default=True,
        help="Most recently updated threads searched for finished work.",
    ),
]


def _select(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_SELECT):
        fn = option(fn)
    return fn


@dataclass
class _Selection:
    threads: Sequence[str]
    namespace: str
    limit: int
    labels: dict[str, str] = field(init=False)
    ns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.labels = resolve_threads(self.threads, _settings().api_key)
        self.ns = parse_namespace(self.namespace)

    def describe(self) -> str:
        if self.labels:
            return "thread(s) " + ", ".join(self.labels.values())
        return f"namespace {'/'.join(self.ns)}"

    def fetch(self, client: SyncLangGraphClient, known: Sequence[str] = ()) -> list[ThreadSnapshot]:
        """Snapshot the selected threads; a namespace's threads seen before stay listed."""
        if self.labels:
            ids = list(self.labels)
        else:
            found = thread_ids_in(client, self.ns, self.limit)
            ids = [*known, *(t for t in found if t not in known)]
        return snapshot(client, ids, self.labels)


@cli.command()
@click.option(
    "-t", "--thread", "threads", multiple=True, required=True,
    help="A thread key or UUID (repeatable).",
)  # fmt: skip
def retry(threads: tuple[str, ...]) -> None:
    """Restart the server's redelivery of a thread's parked (or failed) work, now.

    The work runs again at once and the redelivery count starts over. Nothing
    happens to a thread that has a run on its way already (that run processes the
    work). Not the client's HTTP retries: those are automatic.
    """
    settings = _settings()
    resolve_threads(threads, settings.api_key)  # bad keys: exit 2 before any request
    settings.client()  # fail fast, with the hint, when nothing listens
    with ReflectionExecutor(
        settings.graph,
        parse_namespace(DEFAULT_NAMESPACE),
        url=settings.url,
        api_key=settings.api_key,
    ) as executor:
        for thread in threads:
            if executor.retry(thread):
                click.echo(f"{thread}: running its waiting work again")
            else:
                click.echo(f"{thread}: a run is already on its way; it processes the work")


@cli.command()
@_select
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(threads: tuple[str, ...], namespace: str, limit: int, as_json: bool) -> None:
    """Show threads: pending (with countdown), running, idle, and each one's last result."""
    sel = _Selection(threads, namespace, limit)
    views = sel.fetch(_settings().client())
    now = time.time()
    if as_json:
        click.echo(json.dumps([render.view_json(v, now) for v in views], indent=2))
        return
    if not views:
        click.echo(f"no threads with work for {sel.describe()}")
        return
    _console().print(render.status_table(views, now))


@dataclass
class _Watcher:
    """Polls the selection and reports what changed; ``watch`` and ``flush`` share it."""

    sel: _Selection
    client: SyncLangGraphClient
    views: list[ThreadSnapshot] = field(default_factory=list)
    superseded: Counter[str] = field(default_factory=Counter)

    def poll(self) -> list[tuple[ThreadSnapshot, str]]:
        old = {v.thread_id: v for v in self.views}
        self.views = self.sel.fetch(self.client, list(old))
        changes = render.events(old, self.views, time.time())
        for view, msg in changes:
            if msg.startswith("superseded"):
                self.superseded[view.thread_id] += 1
        return changes

    @property
    def busy(self) -> bool:
        return any(v.busy for v in self.views)

    def table(self) -> Any:
        return render.status_table(self.views, time.time(), self.superseded)


def _polls(interval: float, timeout: float | None) -> Iterator[float]:
    """Yield the elapsed time before each poll, every ``interval`` s, until ``timeout``."""
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        yield elapsed
        if timeout is not None and elapsed + interval > timeout:
            return
        time.sleep(interval)


@contextmanager
def _live(console: Console, enabled: bool) -> Iterator[Live | None]:
    if not enabled:
        yield None
        return
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        yield live


@cli.command()
@_select
@click.option("--interval", type=click.FloatRange(0.05), default=0.5, show_default=True)
@click.option(
    "--plain/--live",
    default=None,
    help="Event lines and a final table, or a live table. Default: live on a terminal.",
)
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once work was seen and nothing is pending, running or in an inbox.",
)
@click.option("--timeout", type=float, default=None, help="Stop after this many seconds.")
def watch(
    threads: tuple[str, ...],
    namespace: str,
    limit: int,
    interval: float,
    plain: bool | None,
    until_idle: bool,
    timeout: float | None,
) -> None:
    """Watch threads live: runs created, superseded, started and finished.

    With --until-idle, running out of --timeout first exits with code 5.
    """
    sel = _Selection(threads, namespace, limit)
    watcher = _Watcher(sel, _settings().client())
    console = _console()
    plain = not sys.stdout.isatty() if plain is None else plain
    click.echo(f"watching {sel.describe()} every {interval} s (Ctrl-C to stop)")
    seen_busy = idle = False
    try:
        with _live(console, not plain) as live:
            for elapsed in _polls(interval, timeout):
                changes = watcher.poll()
                if live is not None:
                    live.update(watcher.table())
                for view, msg in changes:
                    click.echo(f"+{elapsed:5.1f}s  {view.label:<12} {msg}")
                seen_busy = seen_busy or watcher.busy
                idle = seen_busy and not watcher.busy
                if until_idle and idle:
                    break
    except KeyboardInterrupt:
        pass
    if plain:
        console.print(watcher.table())
    if until_idle and not idle:
        raise WaitTimeoutError(f"still busy after {timeout} s: {sel.describe()}")


@cli.command()
@_select
@click.option("--timeout", type=float, default=60.0, show_default=True)
@click.option("--interval", type=click.FloatRange(0.05), default=0.5, show_default=True)
def flush(
    threads: tuple[str, ...], namespace: str, limit: int, timeout: float, interval: float
) -> None:
    """Wait until the selected threads have nothing pending, running or in their inbox."""
    sel = _Selection(threads, namespace, limit)
    watcher = _Watcher(sel, _settings().client())
    for _ in _polls(interval, timeout):
        watcher.poll()
        if not watcher.busy:
            click.echo(f"flushed: {len(watcher.views)} thread(s) idle for {sel.describe()}")
            return
    busy = ", ".join(f"{v.label} ({v.status.state})" for v in watcher.views if v.busy)
    raise WaitTimeoutError(f"flush: still busy after {timeout} s: {busy}")


# -------------------------------------------------------------- memories


@cli.group()
def memories() -> None:
    """List, search, show and delete stored memories; their history, and undo."""


_NS_OPTION = click.option(
    "-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="e.g. memories/alice"
)


def _print_items(items: list[dict[str, Any]], ns: Sequence[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(items, indent=2, default=str))
    else:
        _console().print(render.memory_table(items, ns))


@memories.command("list")
@_NS_OPTION
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
def list_memories(namespace: str, limit: int, offset: int, as_json: bool) -> None:
    """List memories in a namespace (its sub-namespaces too)."""
    ns = parse_namespace(namespace)
    res = _settings().client().store.search_items(ns, limit=limit, offset=offset)
    _print_items([dict(i) for i in res["items"]], ns, as_json)


@memories.command()
@click.argument("query")
@_NS_OPTION
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def search(query: str, namespace: str, limit: int, as_json: bool) -> None:
    """Search memories in a namespace (semantic if the server's store has an index)."""
    ns = parse_namespace(namespace)
    res = _settings().client().store.search_items(ns, query=query, limit=limit)
    _print_items([dict(i) for i in res["items"]], ns, as_json)


def _key_and_namespace(key: str, namespace: str | None) -> tuple[tuple[str, ...], str]:
    # A full path as status and submit print it ("memories/alice/<key>") names both.
    if namespace is None:
        head, sep, tail = key.rpartition("/")
        return parse_namespace(head if sep else DEFAULT_NAMESPACE), tail
    return parse_namespace(namespace), key


def _get(client: SyncLangGraphClient, ns: tuple[str, ...], key: str) -> dict[str, Any]:
    try:
        item = client.store.get_item(ns, key)
    except httpx.HTTPStatusError as err:
        if err.response.status_code != 404:
            raise
        item = None
    if not item:
        raise ServerRefusedError(f"no memory {key!r} in {'/'.join(ns)}")
    return dict(item)


@memories.command()
@click.argument("key")
@click.option("-n", "--namespace", default=None, help="Default: from KEY if it is a path.")
def show(key: str, namespace: str | None) -> None:
    """Show one memory as JSON; KEY is a key or a path like memories/alice/<key>."""
    ns, key = _key_and_namespace(key, namespace)
    click.echo(json.dumps(_get(_settings().client(), ns, key), indent=2, default=str))


@memories.command()
@click.argument("keys", nargs=-1, required=True)
@click.option("-n", "--namespace", default=None, help="Default: from each KEY if it is a path.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(keys: tuple[str, ...], namespace: str | None, yes: bool) -> None:
    """Delete memories; each KEY is a key or a path like memories/alice/<key>."""
    client = _settings().client()
    targets = [_key_and_namespace(k, namespace) for k in keys]
    for ns, key in targets:
        _get(client, ns, key)  # a typo should fail, not "delete" nothing
    if not yes:
        click.confirm(
            f"delete {len(targets)} memor{'y' if len(targets) == 1 else 'ies'}?", abort=True
        )
    days = run_sync(ServerFeatures.ask(RetryPolicy()), client).history_days
    for ns, key in targets:
        # Through the history, like a run's delete: `memories undo` brings it back.
        change = run_sync(Flows.change_memory(ns, key, None, time.time(), days), client)
        click.echo(f"deleted {'/'.join([*ns, key])} (undo: memory-reflect memories undo "
                   f"{change.id} -n {'/'.join(ns)})")  # fmt: skip


def _executor(settings: Settings, namespace: str) -> ReflectionExecutor:
    settings.client()  # fail fast, with the hint, when nothing listens
    return ReflectionExecutor(
        settings.graph, parse_namespace(namespace), url=settings.url, api_key=settings.api_key
    )


@memories.command()
@click.argument("key", required=False)
@_NS_OPTION
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def history(key: str | None, namespace: str, limit: int, as_json: bool) -> None:
    """Show what changed in a namespace's memories (one memory's, with KEY), newest first.

    Each change: when, created / updated / deleted / restored, the text after (or
    before), and its id, which `memories undo` takes.
    """
    with _executor(_settings(), namespace) as executor:
        changes = executor.history(key, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(c) for c in changes], indent=2, default=str))
    else:
        _console().print(render.history_table(changes, parse_namespace(namespace)))


@memories.command()
@click.argument("change_id")
@_NS_OPTION
def undo(change_id: str, namespace: str) -> None:
    """Bring a memory back to what it was before a change (CHANGE_ID from `memories history`).

    The undo is a change of its own, shown in the history, so it can be undone too.
    """
    with _executor(_settings(), namespace) as executor:
        change = executor.undo(change_id)
    click.echo(f"{change.event} {'/'.join([*change.namespace, change.key])} (change {change.id})")


@cli.command()
@_NS_OPTION
@click.option(
    "--max-memories", type=click.IntRange(0), default=None,
    help="Keep at most this many (default: the server's MEMORY_MAX_MEMORIES; 0: no bound).",
)  # fmt: skip
def consolidate(namespace: str, max_memories: int | None) -> None:
    """Consolidate a namespace now: merge duplicates, retire contradicted facts, keep the bound.

    Every memory it retires is in `history` and `undo` brings it back. It changes
    nothing (exit 4) while extraction for the namespace is pending, or when it would
    retire more than the server's MEMORY_CONSOLIDATION_MAX_SHARE.
    """
    with _executor(_settings(), namespace) as executor:
        retired = executor.consolidate(max_memories=max_memories)
    click.echo(f"retired {len(retired)} memor{'y' if len(retired) == 1 else 'ies'}")
    for path in retired:
        click.echo(f"  {path}")


@cli.command()
@click.option("--user", default=None, help="Keyed server: the key's own identity. Open: a label.")
@click.option(
    "-n", "--namespace", "namespaces", multiple=True,
    help="A memory namespace to erase too, e.g. memories/alice (repeatable).",
)  # fmt: skip
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(user: str | None, namespaces: tuple[str, ...], yes: bool) -> None:
    """Erase a user: memories, their history, inbox, receipts and conversations. No undo.

    On a server with API keys, run it with the user's own key and --user naming
    them: everything that key owns goes. On an open server, --user names a namespace
    label: every memory namespace holding it (memories/alice for alice), its history,
    and the threads that fed it go.
    """
    settings = _settings()
    targets = [parse_namespace(ns) for ns in namespaces]
    if user is None and not targets:
        raise _BadInputError("forget: name a --user or at least one --namespace")
    client = settings.client()
    if not yes:
        who = f"user {user!r}" if user else "namespaces " + ", ".join(namespaces)
        click.confirm(f"erase everything of {who}? This cannot be undone", abort=True)
    erased = run_sync(erase(user, targets, settings.graph), client)
    click.echo(
        f"erased {erased.items} items in {len(erased.namespaces)} namespaces and "
        f"{len(erased.threads)} threads"
    )


# -------------------------------------------------------------- backfill


def _extraction(client: SyncLangGraphClient) -> str | None:
    """``llm`` or ``offline`` as the server says (None: a server that does not say)."""
    try:
        meta = client.http.get(META_PATH)
    except httpx.HTTPStatusError:
        return None
    value = meta.get("extraction") if isinstance(meta, dict) else None
    return value if value in ("llm", "offline") else None


@cli.command()
@click.argument("file", type=click.File("rb"), required=False)
@click.option(
    "--from-server", "from_server", metavar="URL", default=None,
    help="Read the conversations from this LangGraph server's threads instead of a FILE.",
)  # fmt: skip
@click.option(
    "--graph", "source_graph", metavar="NAME", default=None,
    help="With --from-server: the graph whose threads are read (e.g. the agent's).",
)  # fmt: skip
@click.option(
    "--user-key", metavar="METADATA_KEY", default=None,
    help="With --from-server: the thread metadata key that holds the user id.",
)  # fmt: skip
@click.option(
    "--from-api-key", envvar=list(API_KEY_VARS), default=None,
    help="With --from-server: its API key (default: the env variables --api-key reads).",
)  # fmt: skip
@click.option(
    "-n", "--namespace", default="/".join(DEFAULT_TEMPLATE), show_default=True,
    help="Where a conversation without 'namespace' goes; {user_id} is filled from it.",
)  # fmt: skip
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
    help="Conversations (so runs) in flight at most; the rest of the server is live traffic's.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print what it would do and the token estimate.")
@click.option(
    "--limit", type=click.IntRange(1), default=None,
    help="Do at most this many conversations now; the next run does the rest.",
)  # fmt: skip
@click.option(
    "--max-messages", type=click.IntRange(1, 1000), default=50, show_default=True,
    help="Messages one run is given; a longer conversation takes several runs.",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(1), default=300.0, show_default=True,
    help="Seconds one run may take before its conversation counts as failed.",
)  # fmt: skip
@click.option("--price-per-1k-prompt", type=click.FloatRange(0), default=None)
@click.option("--price-per-1k-completion", type=click.FloatRange(0), default=None)
@click.option(
    "--plain/--live", default=None,
    help="Progress lines, or a progress bar. Default: a bar on a terminal.",
)  # fmt: skip
def backfill(
    file: IO[bytes] | None,
    from_server: str | None,
    source_graph: str | None,
    user_key: str | None,
    from_api_key: str | None,
    namespace: str,
    concurrency: int,
    dry_run: bool,
    limit: int | None,
    max_messages: int,
    timeout: float,
    price_per_1k_prompt: float | None,
    price_per_1k_completion: float | None,
    plain: bool | None,
) -> None:
    """Turn past conversations into memories; resumable, run it again freely.

    From a JSON Lines FILE, one conversation a line: {"thread_id": ..., "user_id": ...,
    "messages": [{"role": ..., "content": ..., "id": ...}, ...]} (id optional;
    "namespace" optional, else --namespace filled from user_id). Or from a LangGraph
    deployment (--from-server URL --graph NAME --user-key KEY): each thread of the
    graph is a conversation, its messages those of its state, its user the thread's
    metadata KEY. A bad line (a thread without the key or messages) is reported and
    skipped. What is done is recorded on the server: run again after an interruption
    it does the rest, run again after it finished it creates nothing (a thread that
    gained messages is sent again). Exit 2 if a line or thread was skipped, 6 if a run
    failed, 5 if one timed out, 130 when interrupted.
    """
    settings = _settings()
    template = parse_namespace(namespace)
    server_only = {"--graph": source_graph, "--user-key": user_key}
    if from_server is None:
        if file is None:
            raise _BadInputError("backfill: give a FILE, or --from-server URL --graph --user-key")
        given = [name for name, value in server_only.items() if value is not None]
        if given:
            raise _BadInputError(f"backfill: {given[0]} goes with --from-server, not a FILE")
        content = file.read()
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _BadInputError(f"{file.name}: not UTF-8 text ({err})") from None
        conversations, bad = read_conversations(text.splitlines(), template)
        source, backfill_key, unit = file.name, backfill_id(content), "line"
    else:
        if file is not None:
            raise _BadInputError("backfill: a FILE or --from-server, not both")
        missing = [name for name, value in server_only.items() if not value]
        if missing:
            raise _BadInputError(f"backfill --from-server: {missing[0]} is required")
        assert source_graph is not None and user_key is not None  # checked just above
        url = from_server.rstrip("/")
        threads = _source_threads(url, from_api_key or None, source_graph)
        conversations, bad = read_threads(
            threads, graph=source_graph, user_key=user_key, template=template
        )
        source = f"graph {source_graph} on {url}"
        backfill_key, unit = server_backfill_id(url, source_graph), "thread"
    _run_backfill(
        settings,
        source,
        backfill_key,
        Plan(conversations, bad, max_messages=max_messages, limit=limit, unit=unit),
        concurrency=concurrency,
        dry_run=dry_run,
        timeout=timeout,
        prices=(price_per_1k_prompt, price_per_1k_completion),
        plain=plain,
    )


def _source_threads(url: str, api_key: str | None, graph: str) -> list[dict[str, Any]]:
    """Every thread of ``graph`` on the source server (paged), with their state's values."""
    http = HttpSettings(
        url, api_key, timeout=httpx.Timeout(30.0, connect=5.0), user_agent="memory-reflect-cli"
    ).http()
    try:
        return run_sync(search_threads(graph), SyncLangGraphClient(http))
    except httpx.TransportError as err:
        # Named here: the group's handlers would name the target server and its key.
        raise ServerUnreachableError(url, err) from err
    except httpx.HTTPStatusError as err:
        raise _refused(err, f"the source server {url}", "--from-api-key") from err
    finally:
        http.close()


def _run_backfill(
    settings: Settings,
    source: str,
    backfill_key: str,
    read: Plan,
    *,
    concurrency: int,
    dry_run: bool,
    timeout: float,
    prices: tuple[float | None, float | None],
    plain: bool | None,
) -> None:
    """Plan and run a backfill of what a reader gave (``read``: its conversations, no record yet).

    One path for every source: the record, the plan, the dry run, the progress and the
    exit code do not depend on where the conversations came from.
    """
    client = settings.client()
    runner = Backfill(
        client,
        backfill_key,
        graph=settings.graph,
        url=settings.url,
        api_key=settings.api_key,
        concurrency=concurrency,
        timeout=timeout,
        poll_interval=0.1,
    )
    plan = replace(read, done=runner.done_keys())
    head = plan_lines(
        source,
        runner.id,
        plan,
        extraction=_extraction(client),
        concurrency=concurrency,
        price_prompt=prices[0],
        price_completion=prices[1],
        list_bad=dry_run,
    )
    for line in head:
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing written")
        if plan.bad:
            click.get_current_context().exit(EXIT_CODES["usage"])
        return
    started = time.monotonic()
    display = ProgressDisplay(plan, live=sys.stdout.isatty() if plain is None else not plain)
    runner.write_summary(source, plan, Tally())
    with display.shown():
        outcome = runner.run(plan, on_change=display.update)
    runner.write_summary(source, plan, outcome.tally)
    for line in summary_lines(plan, outcome, time.monotonic() - started):
        click.echo(line)
    if outcome.interrupted:
        click.get_current_context().exit(EXIT_CODES["interrupted"])
    if outcome.tally.failed > outcome.timed_out:
        click.get_current_context().exit(EXIT_CODES["failed"])
    if outcome.timed_out:
        click.get_current_context().exit(EXIT_CODES["timeout"])
    if plan.bad:
        click.get_current_context().exit(EXIT_CODES["usage"])


# The lifecycle's commands at the top level too: `memory-reflect history`, `memory-reflect undo`.
cli.add_command(history)
cli.add_command(undo)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point (``memory-reflect``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="memory-reflect")
    raise SystemExit(0)  # cli.main exits itself; this is for the type checker
