"""Caller-side ``submit()`` latency: how long the caller's thread is held per submission.

Starts its own ``langgraph dev`` and submits N single-turn payloads over T
threads of conversation, through this project's executor and through langmem's
``RemoteReflectionExecutor`` (``config=`` passed, as it needs outside LangGraph),
timing only the ``submit()`` call (both do the HTTP on background threads). Then waits until every submission is
accepted and processed, so the numbers come from a run that really did the work.

    python -m bench.submit_latency [--n 2000] [--threads 50] [--callers 1]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from bench.harness import FACTORIES
from bench.machine import header, save
from bench.tables import SUBMIT_LATENCY_COLUMNS, table
from deploy.devserver import run_server

RESULTS = Path(__file__).with_name("results")


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def measure(
    url: str, contender: str, n: int, threads: int, callers: int, after_seconds: float
) -> dict[str, float | str]:
    """Submit ``n`` payloads from ``callers`` calling threads; return latency stats in µs."""
    run = uuid.uuid4().hex[:6]
    sub = FACTORIES[contender](url, ("bench", run, contender))
    keys = [f"{run}-{t}" for t in range(threads)]
    timings: list[float] = []
    futures: list[Future[Any]] = []
    lock = threading.Lock()

    def caller(idx: int) -> None:
        local, futs = [], []
        for i in range(idx, n, callers):
            msgs = [{"role": "user", "content": f"I love topic {i}."}]
            t0 = time.perf_counter()
            fut = sub.submit(keys[i % threads], msgs, after_seconds)
            local.append(time.perf_counter() - t0)
            futs.append(fut)
        with lock:
            timings.extend(local)
            futures.extend(futs)

    # Warm up imports and code paths outside the measurement.
    warm = sub.submit(f"{run}-warm", [{"role": "user", "content": "warm up"}], 0)
    sub.wait_accepted(warm, 60)
    workers = [threading.Thread(target=caller, args=(c,)) for c in range(callers)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    handed = time.perf_counter() - start
    for fut in futures:
        sub.wait_accepted(fut, 600)
    accepted = time.perf_counter() - start
    sub.drain([*keys, f"{run}-warm"], timeout=900)
    processed = time.perf_counter() - start
    sub.close()
    us = sorted(t * 1e6 for t in timings)
    return {
        "contender": contender,
        "submissions": n,
        "conversation_threads": threads,
        "calling_threads": callers,
        "submit_p50_us": round(statistics.median(us), 1),
        "submit_p99_us": round(_percentile(us, 0.99), 1),
        "submit_max_us": round(us[-1], 1),
        "all_handed_over_s": round(handed, 3),
        "all_accepted_s": round(accepted, 3),
        "all_processed_s": round(processed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a markdown table, write JSON under bench/results/."""
    parser = argparse.ArgumentParser(prog="python -m bench.submit_latency")
    parser.add_argument("--n", type=int, default=2000, help="submissions per row")
    parser.add_argument("--threads", type=int, default=50, help="conversation threads")
    parser.add_argument("--callers", type=int, nargs="+", default=[1, 20], help="calling threads")
    parser.add_argument("--after-seconds", type=float, default=1.0)
    parser.add_argument(
        "--contenders", nargs="+", default=["ours", "langmem"], choices=["ours", "langmem"]
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "submit_latency.json")
    opts = parser.parse_args(argv)

    with run_server() as server:
        rows = [
            measure(server.url, name, opts.n, opts.threads, c, opts.after_seconds)
            for c in opts.callers
            for name in opts.contenders
        ]
    record = {**header(opts), "rows": rows}
    print(f"\nsubmit() latency on {record['machine']}\n")
    print(table(rows, SUBMIT_LATENCY_COLUMNS))
    save(record, opts.out)
    print(f"\nwritten to {opts.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
