"""How the CLI shows threads and memories: rich tables, event lines, JSON. No I/O.

``watch`` compares two snapshots with :func:`events` to say what happened between
polls (a run created, superseded, started, finished); everything here is a pure
function of its arguments, so it is tested without a server or a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table

from sdk_client.cli.views import LastRun, ThreadSnapshot
from sdk_client.contract import memory_text
from sdk_client.types import MemoryChange

__all__ = [
    "events",
    "memory_table",
    "memory_text",
    "short_run",
    "status_table",
    "view_json",
]


def short_run(run_id: str | None) -> str:
    """A run id cut to what tells runs of one burst apart (UUIDv7: time first)."""
    if not run_id:
        return "-"
    return run_id[:13] + "…" if len(run_id) > 14 else run_id


def _due(view: ThreadSnapshot, now: float) -> str:
    due = view.status.due_at
    if view.status.state != "pending" or due is None:
        return "-"
    left = due - now
    return f"in {left:.1f} s" if left >= 0 else f"due {-left:.1f} s ago"


def _changes(last: LastRun | None) -> str:
    if last is None:
        return "-"
    return f"+{len(last.created)} ~{len(last.updated)} -{len(last.deleted)}"


def _tokens(last: LastRun | None) -> str:
    """Prompt → completion tokens of the last run; ``0`` when it called no model."""
    if last is None or last.usage is None:
        return "-"
    u = last.usage
    return f"{u.prompt_tokens}→{u.completion_tokens}" if u.model_calls else "0"


def _ago(at: float | None, now: float) -> str:
    return "-" if at is None else f"{max(0.0, now - at):.1f} s ago"


def status_table(
    views: Sequence[ThreadSnapshot], now: float, superseded: Mapping[str, int] | None = None
) -> Table:
    """One row per thread: state, countdown, inbox, and the last run's result.

    Args:
        views: The threads, as :func:`sdk_client.cli.views.snapshot` returns them.
        now: The time the countdowns are measured from (epoch seconds).
        superseded: Runs seen superseded per thread (``watch`` counts them); no column if None.
    """
    # No vertical rules: the ten columns fit an 80-column terminal.
    table = Table(
        title=f"{len(views)} thread(s)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("thread", no_wrap=True, min_width=8)
    table.add_column("state", no_wrap=True, min_width=7)
    table.add_column("run", no_wrap=True, min_width=14)
    table.add_column("due", no_wrap=True, min_width=9)
    table.add_column("inbox", justify="right", no_wrap=True, min_width=5)
    if superseded is not None:
        table.add_column("superseded", justify="right", no_wrap=True, min_width=10)
    table.add_column("last run", no_wrap=True)
    table.add_column("msgs", justify="right", no_wrap=True, min_width=4)
    table.add_column("+new ~upd -del", no_wrap=True)
    table.add_column("tokens in→out", justify="right", no_wrap=True)
    table.add_column("finished", no_wrap=True)
    for v in views:
        row = [
            v.label,
            _state(v),
            short_run(v.status.run_id),
            _due(v, now),
            str(v.status.inbox),
        ]
        if superseded is not None:
            row.append(str(superseded.get(v.thread_id, 0)))
        row += [
            short_run(v.last.run_id if v.last else None),
            str(v.last.messages) if v.last else "-",
            _changes(v.last),
            _tokens(v.last),
            _ago(v.last.finished_at if v.last else None, now),
        ]
        table.add_row(*row)
    return table


def _state(view: ThreadSnapshot) -> str:
    """The state, or where the server's redelivery of failed work stands."""
    delivery = view.status.delivery
    if delivery is None or view.status.state != "idle":
        return view.status.state
    return "parked" if delivery.parked else f"retry {delivery.attempts}/{delivery.max_attempts}"


def view_json(view: ThreadSnapshot, now: float) -> dict[str, Any]:
    """A thread as a JSON-ready dict (``status --json``)."""
    s, last = view.status, view.last
    return {
        "thread": view.label,
        "thread_id": s.thread_id,
        "state": s.state,
        "run_id": s.run_id,
        "due_at": s.due_at,
        "due_in": None if s.due_at is None else round(s.due_at - now, 3),
        "inbox": s.inbox,
        "delivery": None
        if s.delivery is None
        else {**asdict(s.delivery), "says": s.delivery.describe()},
        "last_run": None
        if last is None
        else {
            "run_id": last.run_id,
            "messages": last.messages,
            "submissions": last.submissions,
            "created": last.created,
            "updated": last.updated,
            "deleted": last.deleted,
            "finished_at": last.finished_at,
            "usage": None if last.usage is None else asdict(last.usage),
        },
    }


def _thread_events(old: ThreadSnapshot | None, new: ThreadSnapshot, now: float) -> list[str]:
    o_state = old.status.state if old else "idle"
    o_run = old.status.run_id if old else None
    n_state, n_run = new.status.state, new.status.run_id
    o_last = old.last.run_id if old and old.last else None
    n_last = new.last.run_id if new.last else None
    # The run that took over: the one now pending/running, or one that started and
    # finished between two polls.
    successor = n_run or (n_last if n_last != o_last else None)
    out: list[str] = []
    if o_state != "idle" and successor and successor != o_run:
        out.append(f"superseded {short_run(o_run)} → {short_run(successor)}")
    if n_state == "pending" and (n_run != o_run or o_state != "pending"):
        out.append(f"pending    run {short_run(n_run)} due {_due(new, now)}")
    if n_state == "running" and (n_run != o_run or o_state != "running"):
        out.append(f"running    run {short_run(n_run)}")
    if new.last and n_last != o_last and old is not None:
        last = new.last
        spent = f", {last.usage.describe()}" if last.usage and last.usage.model_calls else ""
        out.append(
            f"processed  run {short_run(last.run_id)}: {last.messages} message(s) from "
            f"{last.submissions} submission(s), memories {_changes(last)}{spent}"
        )
    if old is not None and new.status.inbox != old.status.inbox:
        out.append(f"inbox      {old.status.inbox} → {new.status.inbox}")
    return out


def events(
    old: Mapping[str, ThreadSnapshot], new: Sequence[ThreadSnapshot], now: float
) -> list[tuple[ThreadSnapshot, str]]:
    """What changed between two snapshots, per thread, in a readable order.

    A thread seen for the first time reports its current state only (nothing
    "happened" to it that the watcher saw).
    """
    return [(v, msg) for v in new for msg in _thread_events(old.get(v.thread_id), v, now)]


def _when(stamp: Any) -> str:
    if not isinstance(stamp, str) or not stamp:
        return "-"
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def history_table(changes: Sequence[MemoryChange], namespace: Sequence[str]) -> Table:
    """Changes to memories, newest first: when (UTC), what, the memory, its text, the change id."""
    table = Table(
        title=f"{len(changes)} change{'' if len(changes) == 1 else 's'} in {'/'.join(namespace)}",
        title_justify="left",
    )
    for name in ("when (UTC)", "event", "key", "memory", "change id"):
        table.add_column(name, no_wrap=name != "memory")
    for change in changes:
        value = change.after if change.after is not None else change.before
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(change.at))
        text = memory_text(value) if value is not None else ""
        event = f"{change.event} ({change.cause})" if change.cause else change.event
        if change.reason:  # consolidation's why: the memory that stays in its place
            text += f"\n  why: {change.reason}"
        table.add_row(when, event, change.key, text, change.id)
    return table


def memory_table(items: Sequence[Mapping[str, Any]], namespace: Sequence[str]) -> Table:
    """Memories in a namespace: key, text, last update (UTC), and score when searched."""
    table = Table(
        title=f"{len(items)} memor{'y' if len(items) == 1 else 'ies'} in {'/'.join(namespace)}",
        title_justify="left",
    )
    table.add_column("key", no_wrap=True)
    table.add_column("memory")
    table.add_column("updated (UTC)", no_wrap=True)
    scored = any(i.get("score") is not None for i in items)
    if scored:
        table.add_column("score", justify="right")
    for item in items:
        row = [str(item["key"]), memory_text(item["value"]), _when(item.get("updated_at"))]
        if scored:
            score = item.get("score")
            row.append("-" if score is None else f"{score:.3f}")
        table.add_row(*row)
    return table
