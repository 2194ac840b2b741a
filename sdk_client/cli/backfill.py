"""What ``memory-reflect backfill`` prints: the plan (``--dry-run``), its progress, the summary.

The lines are pure functions of the plan and the tally, tested without a server; the
progress is a rich bar on a terminal and a plain line every few seconds elsewhere
(pipes, CI, logs), so a long backfill's log stays readable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sdk_client.backfill import (
    CHARS_PER_TOKEN,
    COMPLETION_TOKENS_PER_RUN,
    COMPLETION_TOKENS_PER_USER_MESSAGE,
    PROMPT_TOKENS_PER_RUN,
    Outcome,
    Plan,
    Tally,
)

__all__ = ["ProgressDisplay", "plan_lines", "progress_line", "summary_lines"]

_USERS_SHOWN = 5


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def plan_lines(
    source: str,
    backfill: str,
    plan: Plan,
    *,
    extraction: str | None,
    concurrency: int,
    price_prompt: float | None = None,
    price_completion: float | None = None,
    list_bad: bool = True,
) -> list[str]:
    """What a backfill would do (``--dry-run``) and, before a real one, its first lines.

    ``list_bad``: name each bad line here (a real run names them in its summary instead).
    """
    todo = plan.todo
    users = plan.users
    shown = ", ".join(users[:_USERS_SHOWN]) + (", …" if len(users) > _USERS_SHOWN else "")
    user_messages = sum(1 for c in todo for m in c.messages if m["role"] == "user")
    later = f", {plan.later:,} left for a later run (--limit)" if plan.later else ""
    within = "in the file" if plan.unit == "line" else f"in the {plan.unit}s"
    lines = [
        f"backfill {backfill} of {source}",
        f"  conversations  {plan.distinct:,} {within}: {plan.done_before:,} done before, "
        f"{len(todo):,} to do{later}",
        f"  messages       {plan.messages:,} to do ({user_messages:,} from users)",
        f"  users          {len(users):,}" + (f" ({shown})" if users else ""),
        f"  namespaces     {len(plan.namespaces):,}",
        f"  runs           {plan.runs:,} to create (a run per {plan.max_messages} messages "
        f"of a conversation), at most {concurrency} at a time",
    ]  # fmt: skip
    lines += _estimate_lines(plan, extraction, price_prompt, price_completion)
    if plan.bad:
        label = f"bad {plan.unit}s".ljust(14)
        lines.append(f"  {label} {len(plan.bad):,}, skipped" + (":" if list_bad else ""))
        lines += [f"    {b.where}: {b.error}" for b in plan.bad if list_bad]
    return lines


def _estimate_lines(
    plan: Plan, extraction: str | None, price_prompt: float | None, price_completion: float | None
) -> list[str]:
    if extraction == "offline":
        return ["  model          none: the server's offline extractor calls no model (0 tokens)"]
    est = plan.estimate()
    where = "" if extraction == "llm" else " (if the server extracts with a model)"
    lines = [
        f"  tokens         ~{est.prompt_tokens:,} prompt + ~{est.completion_tokens:,} completion"
        f"{where}",
        f"                 (estimate: {PROMPT_TOKENS_PER_RUN:,} a run + characters/"
        f"{CHARS_PER_TOKEN} of its messages in; {COMPLETION_TOKENS_PER_RUN} a run + "
        f"{COMPLETION_TOKENS_PER_USER_MESSAGE} a user message out)",
    ]
    cost = est.cost(price_prompt, price_completion)
    if cost is not None:
        lines.append(
            f"  cost           ~{cost:,.4f} at {price_prompt or 0:g} / {price_completion or 0:g} "
            "per 1k prompt / completion tokens"
        )
    return lines


def progress_line(tally: Tally, total: int, messages: int, elapsed: float) -> str:
    """One plain progress line: conversations, messages, runs, tokens, ETA."""
    finished = tally.conversations + tally.failed
    eta = "-"
    if 0 < finished < total:
        eta = f"{elapsed / finished * (total - finished):.0f} s"
    return (
        f"backfill: {finished:,}/{total:,} conversations ({tally.failed:,} failed), "
        f"{tally.messages:,}/{messages:,} messages, runs {tally.runs:,} done / "
        f"{tally.runs_failed:,} failed, tokens {tally.prompt_tokens:,} → "
        f"{tally.completion_tokens:,}, {elapsed:.0f} s, ETA {eta}"
    )


def summary_lines(plan: Plan, outcome: Outcome, elapsed: float) -> list[str]:
    """The summary at the end: what was done, what failed and why, what to do next."""
    tally = outcome.tally
    head = "interrupted" if outcome.interrupted else "done"
    lines = [
        f"{head} in {elapsed:.1f} s: {_n(tally.conversations, 'conversation')} backfilled "
        f"({_n(tally.messages, 'message')}, {_n(tally.runs, 'run')}, memories "
        f"+{tally.created} ~{tally.updated}, tokens {tally.prompt_tokens:,} → "
        f"{tally.completion_tokens:,}), {tally.failed:,} failed, "
        f"{plan.done_before:,} done before, {_n(len(plan.bad), 'bad ' + plan.unit)} skipped",
    ]
    for conv, why in tally.failures:
        lines.append(f"  failed: {conv.where}: {why}")
    for bad in plan.bad:
        lines.append(f"  skipped: {bad.where}: {bad.error}")
    left = len(plan.todo) - tally.conversations + plan.later
    if left > 0:
        lines.append(f"{_n(left, 'conversation')} left: run the same command again to resume")
    return lines


class ProgressDisplay:
    """A rich progress bar on a terminal, else a plain line every ``every`` seconds."""

    def __init__(self, plan: Plan, live: bool, out: IO[str] | None = None, every: float = 2.0):
        self._total = len(plan.todo)
        self._messages = plan.messages
        self._live = live
        self._every = every
        self._start = self._last = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._out = out
        self._final: Tally | None = None

    @contextmanager
    def shown(self) -> Iterator[ProgressDisplay]:
        """Show the progress while the backfill runs."""
        if not self._live:
            yield self
            self._print_line(self._final)
            return
        self._progress = Progress(
            TextColumn("backfill"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("conversations · {task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=self._out),
        )
        self._task = self._progress.add_task("backfill", total=self._total, detail="")
        with self._progress:
            yield self

    def update(self, tally: Tally) -> None:
        """A conversation finished (done or failed)."""
        self._final = tally
        if self._progress is not None and self._task is not None:
            detail = (
                f"{tally.failed} failed · {tally.messages:,}/{self._messages:,} messages · "
                f"runs {tally.runs:,} done / {tally.runs_failed:,} failed · tokens "
                f"{tally.prompt_tokens:,} → {tally.completion_tokens:,}"
            )
            self._progress.update(
                self._task, completed=tally.conversations + tally.failed, detail=detail
            )
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._print_line(tally)

    def _print_line(self, tally: Tally | None) -> None:
        if tally is not None:
            elapsed = time.monotonic() - self._start
            click.echo(progress_line(tally, self._total, self._messages, elapsed), file=self._out)
