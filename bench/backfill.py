"""``python -m bench.backfill``: a backfill's throughput, its server CPU, and live traffic during it.

``--conversations`` conversations of ``--turns`` turns (a user message and the
assistant's reply each), generated from ``--seed``: each user has a few lasting facts
(home, work, pets, family, languages, …) that their conversations state among
fact-free chatter, some restated in later conversations, as real chats do. They are
written to a JSON Lines file and backfilled by ``memory-reflect backfill --plain
--concurrency C``, run as its own process (as a user runs it), against

* one ``langgraph dev`` (``--n-jobs-per-worker``, like the other benches), and
* the 2-process local cluster (``deploy/local_cluster.py``: Postgres + Redis + two
  processes of the pinned runtime, keys, the mounted app and the vector index on, as
  ``bench.scaleout`` starts it), unless ``--targets dev``.

Offline extractor (no model), so what is measured is the server's and the backfill's
own work. On each server a *live client* (a ``ReflectionExecutor`` in this process,
on threads of its own) submits a one-turn fact every ``--live-every`` seconds,
rotating over ten threads of its own with ``after_seconds=0``, first alone for
``--live-seconds`` (the baseline), then for as long as the backfill runs. Its
submit→processed time per turn (the Future's resolution, polled every 0.1 s) gives
p50 / p95 with and without the backfill.

Server CPU (user + system of the server processes, ``/proc``; Postgres and Redis not
counted) is read around the backfill; what the live client costs the server over
that time, at the baseline's rate, is subtracted, so the per-conversation figure is
the backfill's own. Conversations per second: the CLI's own ``done in`` time (its
plan and start-up not counted).

Prints the table with the machine, writes ``bench/results/backfill.json``; ``make
report`` renders it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench.machine import header, save
from bench.tables import BACKFILL_COLUMNS, table
from bench.workloads import pct
from deploy.devserver import ROOT, run_server
from sdk_client import ReflectionExecutor

RESULTS = Path(__file__).with_name("results")

# What a generated user says: kinds of lasting fact, each a template and its values.
# Each kind the offline extractor stores as one memory ("I live in Porto." -> "User
# lives in Porto."); a user gets one value per kind, so a restatement in a later
# conversation is the same fact (the graph's de-duplication keeps it once).
FACT_KINDS: dict[str, tuple[str, list[str]]] = {
    "home": ("I live in {}.", ["Porto", "Oslo", "Lima", "Quito", "Lyon", "Osaka", "Tunis",
                               "Denver", "Hanoi", "Krakow", "Accra", "Perth"]),
    "work": ("I work at a {}.", ["bakery", "hospital", "bank", "school", "library",
                                 "shipyard", "law firm", "bookshop"]),
    "cat": ("My cat is called {}.", ["Miso", "Tofu", "Pixel", "Luna", "Olive", "Ziggy"]),
    "dog": ("My dog is called {}.", ["Rex", "Bruno", "Maple", "Scout", "Pepper"]),
    "sister": ("My sister is called {}.", ["Rita", "Maya", "Ines", "Lotte", "Aiko"]),
    "brother": ("My brother is called {}.", ["Omar", "Pavel", "Tomas", "Kenji", "Luis"]),
    "language": ("I speak {}.", ["Japanese", "Portuguese", "Swahili", "Finnish", "Greek"]),
    "music": ("I play the {}.", ["cello", "violin", "piano", "drums", "flute"]),
    "allergy": ("I am allergic to {}.", ["peanuts", "shellfish", "pollen", "cats"]),
    "study": ("I study {}.", ["physics", "history", "biology", "law", "economics"]),
    "born": ("I was born in {}.", ["Lyon", "Cairo", "Dublin", "Seoul", "Bogota"]),
    "drink": ("I drink {} every morning.", ["tea", "coffee", "green juice", "matcha"]),
}  # fmt: skip
CHATTER = [
    "Thanks, that helps.", "Can you suggest a recipe for dinner?", "What's the weather like?",
    "Could you summarise that article for me?", "Haha, nice one.", "How do I reset my password?",
    "What time is it in Tokyo right now?", "Can you explain that again, more slowly?",
    "Ok, let's move on.", "Is there a shorter way to do this?", "Good morning!",
    "Could you translate this sentence into French?",
]  # fmt: skip
REPLIES = ["Noted, thanks.", "Sure, here you go.", "Happy to help.", "Got it.", "Of course."]
FACTS_PER_USER = 6
CONVERSATIONS_PER_USER = 4
FACT_TURNS = 3
"""Turns of a conversation that state one of its user's facts (the rest is chatter)."""


def conversations(n: int, seed: int, turns: int = 10) -> list[dict[str, Any]]:
    """``n`` conversations of ``turns`` turns, the same for the same seed.

    A user has :data:`FACTS_PER_USER` facts and :data:`CONVERSATIONS_PER_USER`
    conversations (interleaved with other users', as an export by date would be);
    each conversation states :data:`FACT_TURNS` of its user's facts at random turns.
    """
    rng = random.Random(seed)
    users = max(1, -(-n // CONVERSATIONS_PER_USER))
    profiles = []
    for _ in range(users):
        kinds = rng.sample(sorted(FACT_KINDS), FACTS_PER_USER)
        profiles.append([FACT_KINDS[k][0].format(rng.choice(FACT_KINDS[k][1])) for k in kinds])
    lines = []
    for i in range(n):
        u = i % users
        facts = rng.sample(profiles[u], min(FACT_TURNS, turns))
        at = dict(zip(rng.sample(range(turns), len(facts)), facts, strict=True))
        messages: list[dict[str, str]] = []
        for t in range(turns):
            messages.append({"role": "user", "content": at.get(t) or rng.choice(CHATTER)})
            messages.append({"role": "assistant", "content": rng.choice(REPLIES)})
        lines.append({"thread_id": f"backfill-{seed}-{i}", "user_id": f"user-{seed}-{u}",
                      "messages": messages})  # fmt: skip
    return lines


def facts_stated(lines: list[dict[str, Any]]) -> int:
    """Distinct facts the users state across the file: what their memories should hold."""
    chatter = set(CHATTER)
    return len({(line["user_id"], m["content"]) for line in lines for m in line["messages"]
                if m["role"] == "user" and m["content"] not in chatter})  # fmt: skip


# ------------------------------------------------------------------ live traffic


class Live:
    """A live client: one turn every ``every`` s on its own threads; submit→processed per turn."""

    THREADS = 10

    def __init__(self, url: str, every: float) -> None:
        # poll_interval 0.1: the Future resolves within 0.1 s of the run's end.
        self._ex = ReflectionExecutor(
            "memory_manager", ("memories", "{user_id}"), url=url, poll_interval=0.1
        )
        self._every = every
        self._tag = uuid.uuid4().hex[:6]
        self._n = 0

    def run(self, stop: threading.Event) -> Callable[[], dict[str, Any]]:
        """Submit until ``stop`` is set (on a thread); returns what gives the phase's figures."""
        latencies: list[float] = []
        failed: list[BaseException] = []
        futures = []

        def done(fut: Any, t0: float) -> None:
            err = fut.exception()
            if err is None:
                latencies.append(time.monotonic() - t0)
            else:
                failed.append(err)

        def loop() -> None:
            next_at = time.monotonic()
            while not stop.is_set():
                n, self._n = self._n, self._n + 1
                user = f"live-{self._tag}-{n % self.THREADS}"
                t0 = time.monotonic()
                fut = self._ex.submit(
                    {"messages": [{"role": "user", "content": f"I live in Town{n}."}]},
                    {"configurable": {"user_id": user}},
                    after_seconds=0,
                    thread_id=user,
                )
                fut.add_done_callback(lambda f, t0=t0: done(f, t0))
                futures.append(fut)
                next_at += self._every
                stop.wait(max(0.0, next_at - time.monotonic()))

        thread = threading.Thread(target=loop, name="live-client", daemon=True)
        thread.start()

        def result() -> dict[str, Any]:
            thread.join()
            for fut in futures:  # every turn settles (processed or failed) before the figures
                fut.exception(timeout=300)
            return {
                "live_turns": len(futures),
                "live_failed": len(failed),
                "live_p50_s": round(pct(latencies, 0.5), 3),
                "live_p95_s": round(pct(latencies, 0.95), 3),
            }

        return result

    def close(self) -> None:
        """Stop the executor."""
        self._ex.shutdown(wait=True)


# ------------------------------------------------------------------- the targets


@dataclass
class Target:
    """A server to backfill: where to send the backfill and the live turns, and its CPU."""

    name: str
    backfill_url: str
    live_url: str
    cpu_seconds: Callable[[], float]
    api_key: str | None = None


TARGET_NAMES = {"dev": "langgraph dev", "cluster": "local cluster, 2 processes"}
"""Each target's name in the rows (``Target.name``)."""


@contextmanager
def dev_target(jobs: int, env: dict[str, str]) -> Iterator[Target]:
    """One ``langgraph dev`` with the offline extractor; ``env`` on top of its environment."""
    from tests.server import isolated_env

    with run_server(isolated_env(**env), jobs=jobs) as server:
        yield Target(TARGET_NAMES["dev"], server.url, server.url, server.cpu_seconds)


@contextmanager
def cluster_target(jobs: int, env: dict[str, str]) -> Iterator[Target]:
    """The local cluster of two processes, keyed, as ``bench.scaleout`` starts it.

    The backfill goes through the first process and the live client through the
    second; both processes execute runs from the shared queue.
    """
    from deploy.local_cluster import run_cluster

    key = "bench-" + uuid.uuid4().hex
    server: dict[str, str | None] = {
        "MEMORY_MODEL": None, "LANGGRAPH_API_URL": None, "MEMORY_API_KEYS": f"bench:{key}", **env
    }  # fmt: skip
    # The live client's executor reads the key from the environment; the CLI gets it too.
    with (
        patch.dict(os.environ, {"LANGGRAPH_API_KEY": key}),
        run_cluster(2, server, jobs=jobs) as cluster,
    ):
        urls = cluster.urls
        yield Target(TARGET_NAMES["cluster"], urls[0], urls[1], cluster.cpu_seconds, key)


# ------------------------------------------------------------------ the measure


_DONE = re.compile(r"^done in ([\d.]+) s: ([\d,]+) conversations? backfilled .*memories \+(\d+)")


def _backfill(target: Target, file: Path, concurrency: int, timeout: float) -> dict[str, Any]:
    """Run ``memory-reflect backfill`` as its own process; its figures from its summary line."""
    cmd = [sys.executable, "-m", "sdk_client.cli", "--url", target.backfill_url, "backfill",
           "--plain", "--concurrency", str(concurrency), str(file)]  # fmt: skip
    env = {**os.environ, **({"LANGGRAPH_API_KEY": target.api_key} if target.api_key else {})}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout, check=False
    )
    found = [m for line in proc.stdout.splitlines() if (m := _DONE.match(line))]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"backfill exited {proc.returncode}:\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")  # fmt: skip
    seconds, done, created = found[-1].groups()
    return {"seconds": float(seconds), "done": int(done.replace(",", "")),
            "memories": int(created)}  # fmt: skip


def measure(target: Target, file: Path, opts: argparse.Namespace) -> list[dict[str, Any]]:
    """Live traffic alone, then with the backfill: two rows."""
    live = Live(target.live_url, opts.live_every)
    try:
        # Warm up: the first runs of a process load what they import (seconds); a few
        # turns' worth of traffic, each waited for until processed.
        warm = threading.Event()
        settle = live.run(warm)
        warm.wait(3.0)
        warm.set()
        settle()

        stop = threading.Event()
        alone = live.run(stop)
        cpu0, t0 = target.cpu_seconds(), time.monotonic()
        stop.wait(opts.live_seconds)  # the baseline lasts this long
        stop.set()
        baseline = alone()
        live_cpu_per_s = (target.cpu_seconds() - cpu0) / (time.monotonic() - t0)

        stop = threading.Event()
        during = live.run(stop)
        cpu0, t0 = target.cpu_seconds(), time.monotonic()
        try:
            bf = _backfill(target, file, opts.concurrency, opts.timeout)
        finally:
            stop.set()
        wall, cpu = time.monotonic() - t0, target.cpu_seconds() - cpu0
        with_backfill = during()
    finally:
        live.close()
    backfill_cpu = max(0.0, cpu - live_cpu_per_s * wall)
    return [
        {"server": target.name, "backfill": False, **baseline},
        {
            "server": target.name,
            "backfill": True,
            "conversations": bf["done"],
            "turns": opts.turns,
            "concurrency": opts.concurrency,
            "memories": bf["memories"],
            "backfill_s": bf["seconds"],
            "conversations_per_s": round(bf["done"] / bf["seconds"], 2),
            "cpu_ms_per_conversation": round(1000 * backfill_cpu / max(1, bf["done"]), 1),
            "server_cpu_s": round(cpu, 1),
            **with_backfill,
        },
    ]


TARGETS = {"dev": dev_target, "cluster": cluster_target}

SWEEP_INTERVAL_SECONDS = 60
"""How often the servers sweep when ``--thread-ttl-minutes`` is given."""


def server_env(opts: argparse.Namespace) -> dict[str, str]:
    """The servers' housekeeping: the sweeper's thread TTL if ``--thread-ttl-minutes``."""
    if opts.thread_ttl_minutes is None:
        return {}  # the server's default (a week): no thread of the run is deleted
    return {"MEMORY_THREAD_TTL_MINUTES": str(opts.thread_ttl_minutes),
            "MEMORY_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS)}  # fmt: skip


def kept_rows(out: Path, ran: list[str]) -> list[dict[str, Any]]:
    """The rows of servers this run leaves out, from the record at ``out``, each with its date.

    So ``--targets dev`` adds the dev server's rows beside the cluster's of an earlier
    run rather than dropping them.
    """
    if not out.exists():
        return []
    before = json.loads(out.read_text())
    names = {TARGET_NAMES[name] for name in ran}
    return [{"run": before["date"], **row} for row in before.get("rows", [])
            if row["server"] not in names]  # fmt: skip


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """Every target, each on a fresh server; a target that cannot start is noted, not fatal."""
    head = header(opts)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    lines = conversations(opts.conversations, opts.seed, opts.turns)
    with tempfile.TemporaryDirectory(prefix="memory-reflect-backfill-") as tmp:
        file = Path(tmp) / "conversations.jsonl"
        file.write_text("".join(json.dumps(line) + "\n" for line in lines))
        for name in opts.targets:
            try:
                with TARGETS[name](opts.jobs, server_env(opts)) as target:
                    alone, during = measure(target, file, opts)
                    ttl = {"thread_ttl_min": opts.thread_ttl_minutes}
                    rows += [{"run": head["date"], **ttl, **alone},
                             {"run": head["date"], **ttl, **during,
                              "facts_stated": facts_stated(lines)}]  # fmt: skip
            except Exception as err:  # the cluster's failure is reported, not fatal
                if name != "cluster":
                    raise
                # The cluster needs Postgres, Redis and a runtime venv; say why it is missing.
                skipped[name] = f"{type(err).__name__}: {str(err)[:300]}"
                print(f"cluster skipped: {skipped[name]}", file=sys.stderr)
    if not opts.smoke:
        rows = kept_rows(opts.out, opts.targets) + rows
    return {**head, "rows": rows, "skipped": skipped}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__)
    p.add_argument("--conversations", type=int, default=10_000)
    p.add_argument("--turns", type=int, default=10, help="turns (user + assistant) a conversation")
    p.add_argument("--seed", type=int, default=28)
    p.add_argument("--concurrency", type=int, default=4, help="the backfill's --concurrency")
    p.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=["dev", "cluster"])
    p.add_argument("--jobs", type=int, default=10, help="--n-jobs-per-worker of each process")
    p.add_argument("--live-every", type=float, default=0.5, help="seconds between live turns")
    p.add_argument("--live-seconds", type=float, default=30.0, help="the baseline's length")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="the backfill's, in seconds")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, for CI (one langgraph dev)")
    p.add_argument(
        "--thread-ttl-minutes",
        type=float,
        default=None,
        help="the servers' MEMORY_THREAD_TTL_MINUTES (swept every minute); "
        "default: the server's own (a week)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "backfill.json",
        help="the record; the rows of servers not in --targets are kept from it",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON record."""
    opts = _parser().parse_args(argv)
    if opts.smoke:
        opts.conversations, opts.targets, opts.live_seconds = 8, ["dev"], 3.0
    record = run(opts)
    save(record, opts.out)
    print(f"\nBackfill on {record['machine']} ({record['date']}), written to {opts.out}\n")
    print(table(record["rows"], BACKFILL_COLUMNS))
    for name, why in record["skipped"].items():
        print(f"\n{name}: skipped ({why})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
