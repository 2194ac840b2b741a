"""``python -m bench.scaleout``: the quiet-thread wave on 1, 2 and 4 server processes, in one run.

Each size gets a fresh local cluster (``deploy/local_cluster.py``: Postgres with pgvector
+ Redis + N ``langhost serve`` processes of the pinned runtime, langgraph-api 0.11.1 on
``langgraph-runtime-pg``) with every promise on, as a deployment would run it: API keys
(the bench is one user), the mounted app (capture, redelivery, the sweeper, the
inspector) and the vector index. The wave is the main benchmark's ``run_wave``
(``--wave`` threads whose single submission falls due in the same second), submitted
round-robin through every process with our ``ReflectionExecutor``; every process
executes runs from the shared queue. The server processes' CPU (user + system, from
``/proc``; Postgres and Redis not counted) is read before the wave and after it
drained, and again around a wave of the same size on a no-op graph on the same cluster
(``bench.run_cost.wave``): the runtime's own floor. Prints a markdown table and writes
``bench/results/scaleout.json``.
"""

from __future__ import annotations

import argparse
import os
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench.__main__ import RESULTS
from bench.harness import Bench, CountingTransport, Ours, Submitter
from bench.machine import header, save
from bench.noop_graph import GRAPH_ID as NOOP
from bench.run_cost import BENCH_GRAPHS
from bench.run_cost import wave as cost_wave
from bench.tables import SCALEOUT_COLUMNS, table
from bench.workloads import run_wave
from deploy.devserver import Server
from deploy.local_cluster import RUNTIME_PIN, Cluster, run_cluster
from sdk_client import ReflectionExecutor
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint


class Spread(Submitter):
    """Our executor, one per server process; each thread goes through one of them."""

    name = "ours"

    def __init__(self, urls: list[str], namespace: tuple[str, ...]) -> None:
        self.parts = [Ours(url, namespace) for url in urls]
        self.transport = CountingTransport()
        self._next = cycle(self.parts)

    def submit(self, thread_key: str, messages: list[dict[str, Any]], after: float) -> Future[Any]:
        """Submit through the next process's executor."""
        return next(self._next).submit(thread_key, messages, after)

    def drain(self, threads: list[str], timeout: float) -> None:
        """Wait until every executor's submissions are processed."""
        for part in self.parts:
            part.drain(threads, timeout)

    def wait_accepted(self, fut: Future[Any], timeout: float) -> None:
        """Wait for the accepted stage only."""
        fut.wait_accepted(timeout)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Shut every executor down."""
        for part in self.parts:
            part.close()


def _warm_up(urls: list[str], processes: int) -> None:
    # The first run in a process imports the model's client libraries (seconds); several
    # warm-up threads per process so every process has run one before the wave.
    for url in urls:
        with ReflectionExecutor("memory_manager", ("bench", "warm-up"), url=url) as ex:
            for i in range(4 * processes):
                ex.submit({"messages": [{"role": "user", "content": "warm up"}]},
                          thread_id=f"warm-up-{i}")  # fmt: skip
            ex.flush(timeout=180)


@dataclass
class _Processes:
    """What ``bench.run_cost.wave`` reads of a server, for the cluster's processes together."""

    cluster: Cluster

    @property
    def url(self) -> str:
        return self.cluster.urls[0]

    def cpu_seconds(self) -> float:
        return self.cluster.cpu_seconds()


def measure(llm: ScriptedEndpoint, processes: int, opts: argparse.Namespace) -> dict[str, Any]:
    """The wave, then a no-op wave, on a fresh cluster of ``processes`` server processes."""
    key = "bench-" + uuid.uuid4().hex
    env = llm.server_env() | {
        "MEMORY_MODEL": "openai:gpt-4.1-mini" if opts.llm else None,
        "LANGGRAPH_API_URL": None,
        "MEMORY_API_KEYS": f"bench:{key}",
    }
    # The executors and SDK clients the bench builds read the key from the environment.
    with (
        patch.dict(os.environ, {"LANGGRAPH_API_KEY": key}),
        run_cluster(processes, env, jobs=opts.jobs, graphs=BENCH_GRAPHS) as cluster,
    ):
        urls = cluster.urls
        _warm_up(urls, processes)
        first = cluster.nodes[0]
        server = Server(first.url, first.port, first.pid, first.log, cluster.workdir)
        bench = Bench(server=server, llm=llm)
        sub = Spread(urls, ("bench", bench.run_id, f"scaleout-{processes}"))
        sub.label = f"ours-scaleout-{processes}"
        try:
            cpu0 = cluster.cpu_seconds()
            row = run_wave(bench, sub, opts.wave, opts.wave_due_in)
            cpu = cluster.cpu_seconds() - cpu0
        finally:
            sub.close()
        noop = cost_wave(_Processes(cluster), NOOP, opts.wave, opts.wave_due_in, None, "noop")
    extractor = "LLM path" if opts.llm else "offline"
    keep = ("threads", "accepted_s", "start_lag_p50_s", "start_lag_p99_s", "drain_s")
    return {
        "processes": processes,
        "extractor": extractor,
        **{k: row[k] for k in keep},
        "cpu_ms_per_run": round(1000 * cpu / opts.wave, 1),
        "noop_cpu_ms_per_run": noop["cpu_ms_per_run"],
        "noop_drain_s": noop["drain_s"],
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    p.add_argument("--wave", type=int, default=1000, help="threads due in the same second")
    p.add_argument("--wave-due-in", type=float, default=40.0, help="seconds until it is due")
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--jobs", type=int, default=10, help="runs each process executes at once")
    p.add_argument("--llm", action="store_true", help="the LLM path (default: offline)")
    p.add_argument("--out", type=Path, default=RESULTS / "scaleout.json")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run every size, print the table, write the JSON record."""
    opts = _parser().parse_args(argv)
    with run_llm_endpoint() as llm:
        rows = [measure(llm, n, opts) for n in opts.processes]
    record = {
        **header(opts),
        "runtime": f"{RUNTIME_PIN} (langgraph-api 0.11.1 on langgraph-runtime-pg), "
        "keys, the mounted app and the vector index on",
        "wave": rows,
    }
    print(f"\nQuiet-thread wave on {record['runtime']}\n{record['machine']} ({record['date']})\n")
    print(table(rows, SCALEOUT_COLUMNS))
    save(record, opts.out)
    print(f"\nwritten to {opts.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
