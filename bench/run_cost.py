"""``python -m bench.run_cost``: what one run costs the server, against a graph that does nothing.

One ``langgraph dev`` serves ``memory_manager`` and a bench-only no-op graph
(:mod:`bench.noop_graph`, added through the config the bench writes to a temporary
directory, never through the product's ``langgraph.json``). For each of

* the no-op graph (the server's own floor: creating, scheduling, checkpointing a run),
* the memory graph with the offline extractor (the default embedder indexing its writes),
* the memory graph on the LLM path, against the scripted model (which answers at once),

a wave of ``--wave`` threads gets one deferred run each, all falling due in the same
second; the server process's CPU time (user + system, from ``/proc``) is read before
the runs are created and after the last one ended. CPU per run is that difference over
the number of runs; it includes creating the run over HTTP. The drain time is from
the due second to the last run's end.

The LLM-path wave is each user's first turn, whose namespace holds nothing yet; a
last wave gives the same users a second turn on the LLM path (their search has a
memory to look through), recorded apart as ``returning``.

Then a fresh server gets ten memory runs one after the other, the first as soon as
the server answers: the first run's latency against the tenth's shows whether a
run still waits for the embedder to load.

Writes ``bench/results/run_cost.json``; ``make report`` renders it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph_sdk.client import SyncLangGraphClient

from bench.harness import sdk_client
from bench.machine import header, save
from bench.noop_graph import GRAPH_ID as NOOP
from bench.noop_graph import THREE_STEPS_ID
from bench.tables import FIRST_RUN_COLUMNS, RUN_COST_COLUMNS, table
from deploy.devserver import ROOT, Server, run_server, wait_until
from sdk_client.contract import GRAPH_ID
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint

RESULTS = Path(__file__).with_name("results")
BENCH_GRAPHS = {
    NOOP: str(ROOT / "bench" / "noop_graph.py") + ":graph",
    THREE_STEPS_ID: str(ROOT / "bench" / "noop_graph.py") + ":three_steps",
}
"""The graphs the bench's server serves beside the project's."""


def _turn(i: int, returning: bool, model: str | None) -> str:
    # Two facts per turn, distinct per thread, and per case: the server embeds each
    # distinct text once (its vector cache), so the LLM wave must not find its memories'
    # vectors left by the offline wave. The stems tokenize to the same lengths.
    if returning:  # a user's second turn, on a new thread, in the namespace of the first
        return f"I work at Company{i}. I like Sport{i}."
    if model is not None:
        return f"My name is Human{i}. I live in City{i}."
    return f"My name is Person{i}. I live in Town{i}."


def _create(
    client: SyncLangGraphClient,
    graph: str,
    i: int,
    after: float,
    model: str | None,
    tag: str,
    returning: bool = False,
) -> str:
    thread = f"run-cost/{tag}/{graph}/{model}/{i}" + ("/returning" if returning else "")
    tid = str(uuid.uuid5(uuid.NAMESPACE_URL, thread))
    configurable: dict[str, Any] = {"namespace": [*_namespace(graph, model, tag), str(i)]}
    if model is not None:
        configurable["model"] = model
    client.runs.create(
        tid, graph, input={"messages": [{"role": "user", "content": _turn(i, returning, model)}]},
        config={"configurable": configurable}, after_seconds=after,
        if_not_exists="create", multitask_strategy="rollback",
    )  # fmt: skip
    return tid


def _namespace(graph: str, model: str | None, tag: str) -> list[str]:
    # Each case its own users: the LLM runs must not find the offline runs' memories.
    return ["run-cost", tag, graph, "llm" if model else "offline"]


def memories(client: SyncLangGraphClient, namespace: list[str]) -> int:
    """How many memories the store holds under ``namespace``."""
    count = 0
    while True:
        page = client.store.search_items(namespace, limit=500, offset=count)["items"]
        count += len(page)
        if len(page) < 500:
            return count


def _busy(client: SyncLangGraphClient) -> int:
    return int(client.threads.count(status="busy"))


def _ended_ok(client: SyncLangGraphClient, graph: str) -> int:
    # A thread is idle once its run succeeded ("error" if it failed); each wave's
    # threads are new, so the count's growth is how many of the wave's runs succeeded.
    return int(client.threads.count(status="idle", metadata={"graph_id": graph}))


def wave(
    server: Server,
    graph: str,
    threads: int,
    due_in: float,
    model: str | None,
    tag: str,
    returning: bool = False,
) -> dict[str, Any]:
    """``threads`` runs of ``graph`` falling due in the same second: CPU per run, drain time.

    ``returning``: each run is the second turn of a user of an earlier wave with ``tag``.
    """
    client = sdk_client(server.url)
    try:
        wait_until(lambda: _busy(client) == 0, 300, 0.5, "an idle server")
        ended_ok0 = _ended_ok(client, graph)
        cpu0 = server.cpu_seconds()
        due = time.time() + due_in
        tids = [
            _create(client, graph, i, max(0.0, due - time.time()), model, tag, returning)
            for i in range(threads)
        ]
        wait_until(lambda: _busy(client) == 0, 1800, 0.5, f"{threads} {graph} runs done")
        drained = time.time() - due
        cpu = server.cpu_seconds() - cpu0
        stored = memories(client, _namespace(graph, model, tag))
        ended_ok = _ended_ok(client, graph) - ended_ok0
        _forget(client, tids)
    finally:
        client.http.client.close()
    return {
        "threads": threads,
        "runs_ended_ok": ended_ok,
        "memories": stored,
        "server_cpu_s": round(cpu, 2),
        "cpu_ms_per_run": round(1000 * cpu / threads, 1),
        "drain_s": round(drained, 2),
    }


def _forget(client: SyncLangGraphClient, thread_ids: list[str]) -> None:
    """Delete a measured wave's threads (and so their runs and checkpoints).

    Why: the dev server keeps threads and runs in lists it scans on every run it
    creates, starts and ends, so a run costs more the more the server has seen (the
    no-op run: 4.7 ms in a first 400-run wave, 7.5 ms after 2,400 more runs, measured
    2026-11-30). Deleted, every wave meets the same server; the memories it wrote stay.
    """
    for tid in thread_ids:
        client.threads.delete(tid)


def _one_run_s(client: SyncLangGraphClient, i: int, tag: str) -> float:
    """Wall-clock seconds from creating one memory run to its end."""
    start = time.perf_counter()
    tid = _create(client, GRAPH_ID, i, 0.0, None, tag)
    wait_until(lambda: client.threads.get(tid)["status"] == "idle", 300, 0.02, "the run to end")
    return time.perf_counter() - start


def first_runs(llm: ScriptedEndpoint, runs: int = 10) -> dict[str, Any]:
    """A fresh server's first ``runs`` memory runs, one after another, from the moment it answers."""
    env = _server_env(llm)
    started = time.perf_counter()
    with run_server(env, jobs=10) as server:
        ready_s = time.perf_counter() - started
        client = sdk_client(server.url)
        try:
            latencies = [_one_run_s(client, i, "first") for i in range(runs)]
        finally:
            client.http.client.close()
        log = server.log_text()
    return {
        "server_ready_s": round(ready_s, 2),
        "embedder_ready_logged": "embedder ready" in log,
        "first_run_s": round(latencies[0], 3),
        "second_run_s": round(latencies[1], 3),
        "tenth_run_s": round(latencies[-1], 3),
        "first_vs_tenth": round(latencies[0] / latencies[-1], 2),
    }


def _server_env(llm: ScriptedEndpoint) -> dict[str, str | None]:
    # Offline by default; the LLM rows ask for the scripted model in the run's config.
    return llm.server_env() | {
        "MEMORY_MODEL": None,
        "LANGGRAPH_API_URL": None,
        "MEMORY_THREAD_TTL_MINUTES": "0",
        "MEMORY_REDELIVERY_ATTEMPTS": "0",
    }


@contextmanager
def bench_server(llm: ScriptedEndpoint, jobs: int) -> Iterator[Server]:
    """A ``langgraph dev`` serving the project's graphs and :data:`BENCH_GRAPHS`, offline."""
    with run_server(_server_env(llm), jobs=jobs, graphs=BENCH_GRAPHS) as server:
        yield server


_LLM = "openai:gpt-4.1-mini"
_CASES = [
    ("no-op graph", NOOP, None),
    ("memory, offline extractor", GRAPH_ID, None),
    ("memory, LLM path (scripted model)", GRAPH_ID, _LLM),
]
RETURNING = "memory, LLM path, users' second turn"


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """Every case on one server, then the first-run check on a fresh one."""
    rows: list[dict[str, Any]] = []
    with run_llm_endpoint() as llm:
        with bench_server(llm, opts.jobs) as server:
            for _name, graph, model in _CASES:  # warm up: client libraries, first imports
                wave(server, graph, 3, 0.5, model, "warm-up")
            for name, graph, model in _CASES:
                rows.append({"graph": name, **wave(server, graph, opts.wave, opts.due_in,
                                                   model, "wave")})  # fmt: skip
            # The LLM rows above are users' first turns; a second turn's search has
            # memories to look through, so its query is embedded.
            returning = {"graph": RETURNING, **wave(server, GRAPH_ID, opts.wave,
                                                    opts.due_in, _LLM, "wave", True)}  # fmt: skip
        floor = rows[0]["cpu_ms_per_run"]
        for row in [*rows, returning]:
            row["vs_noop"] = round(row["cpu_ms_per_run"] / floor, 2) if floor else None
        first = first_runs(llm)
    return {
        **header(opts),
        "rows": rows,
        "returning": [returning],
        "first_runs": [first],
    }


def wave_parser(module: str, doc: str | None, wave: int, due_in: float) -> argparse.ArgumentParser:
    """Options of a bench made of waves: --out, --smoke, --wave, --due-in, --jobs."""
    p = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc)
    p.add_argument("--out", type=Path, default=RESULTS / f"{module}.json")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    p.add_argument("--wave", type=int, default=wave, help="threads (runs) per wave")
    p.add_argument("--due-in", type=float, default=due_in, help="seconds until a wave is due")
    p.add_argument("--jobs", type=int, default=10, help="langgraph dev --n-jobs-per-worker")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run, print the tables, write the JSON record."""
    opts = wave_parser("run_cost", __doc__, wave=1000, due_in=20.0).parse_args(argv)
    if opts.smoke:
        opts.wave, opts.due_in = 10, 3.0
    record = run(opts)
    save(record, opts.out)
    print(
        f"\nRun cost on {record['machine']} ({record['date']}), written to {opts.out}\n\n"
        f"{table(record['rows'], RUN_COST_COLUMNS)}\n\n"
        f"{table(record['returning'], RUN_COST_COLUMNS)}\n\nA fresh server's first runs\n\n"
        f"{table(record['first_runs'], FIRST_RUN_COLUMNS)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
