"""``python -m bench``: every contender, on one server and one scripted model, in one run.

Prints markdown tables and writes ``bench/results/bench.json``. Defaults finish
in a few minutes on 2 cores; ``--smoke`` is the tiny CI version.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.harness import CONTENDERS, FACTORIES, Bench, Submitter, bench_environment
from bench.machine import header, save
from bench.tables import GROWTH_COLUMNS, TRACE_COLUMNS, WAVE_COLUMNS, table
from bench.workloads import Trace, populate, run_trace, run_wave, wait_swept

RESULTS = Path(__file__).with_name("results")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--threads", type=int, default=10, help="conversation threads per trace")
    p.add_argument("--bursts", type=int, default=2, help="bursts per thread")
    p.add_argument("--k", type=int, default=5, help="single-turn submissions per burst")
    p.add_argument("--after-seconds", type=float, default=1.5)
    p.add_argument("--gap-in", type=float, default=0.2, help="seconds between turns of a burst")
    p.add_argument(
        "--gap-out", type=float, default=4.0, help="quiet seconds between bursts (> after)"
    )
    p.add_argument(
        "--wave", type=int, default=1000, help="threads due in the same second (0: skip)"
    )
    p.add_argument("--wave-due-in", type=float, default=15.0, help="seconds until the wave is due")
    p.add_argument(
        "--growth", type=int, default=2000,
        help="finished threads to add before re-running our trace (0: skip)",
    )  # fmt: skip
    p.add_argument(
        "--sweep-ttl", type=float, default=1.0,
        help="minutes: the growth re-run with the idle-thread sweeper on (0: skip it)",
    )  # fmt: skip
    p.add_argument("--jobs", type=int, default=10, help="langgraph dev --n-jobs-per-worker")
    p.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    p.add_argument("--out", type=Path, default=RESULTS / "bench.json")
    return p


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """Run every workload for every contender; return the results record."""
    if opts.smoke:
        opts.threads, opts.bursts, opts.k, opts.wave, opts.wave_due_in = 2, 1, 3, 20, 3.0
        opts.growth, opts.sweep_ttl = 10, min(opts.sweep_ttl, 0.05)
    trace_rows: list[dict[str, Any]] = []
    wave_rows: list[dict[str, Any]] = []
    growth_rows: list[dict[str, Any]] = []
    with bench_environment(jobs=opts.jobs) as bench:
        for full in (False, True):
            trace = Trace(
                opts.threads, opts.bursts, opts.k, opts.after_seconds, opts.gap_in, opts.gap_out,
                full_history=full,
            )  # fmt: skip
            workload = "full" if full else "single"
            for name in opts.contenders:
                trace_rows.append(_trace(bench, name, workload, trace))
        if opts.wave:
            for name in ("ours", "langmem"):
                if name in opts.contenders:
                    wave_rows.append(_wave(bench, opts, name, "LLM path"))
        if opts.growth and "ours" in opts.contenders:
            first = next(
                r for r in trace_rows if r["contender"] == "ours" and not r["full_history"]
            )
            growth_rows.append({**first, "cleanup": "none", "threads_served": 0})
            growth_rows.append(_growth(bench, opts, "none"))
    if opts.growth and opts.sweep_ttl and "ours" in opts.contenders:
        with bench_environment(jobs=opts.jobs, thread_ttl_minutes=opts.sweep_ttl) as bench:
            growth_rows.append(_growth(bench, opts, f"sweeper, TTL {opts.sweep_ttl:g} min"))
    if opts.wave:
        with bench_environment(jobs=opts.jobs, offline=True) as bench:
            wave_rows.append(_wave(bench, opts, "ours", "offline extractor"))
    return {
        **header(opts),
        "trace": trace_rows,
        "wave": wave_rows,
        "growth": growth_rows,
    }


def _trace(bench: Bench, name: str, workload: str, trace: Trace) -> dict[str, Any]:
    sub = _submitter(bench, name, workload)
    try:
        return run_trace(bench, sub, trace)
    finally:
        sub.close()


def _growth(bench: Bench, opts: argparse.Namespace, cleanup: str) -> dict[str, Any]:
    """Our trace after ``opts.growth`` finished threads (swept first, when the sweeper is on)."""
    sub = _submitter(bench, "ours", "populate")
    try:
        populate(bench, sub, opts.growth)
    finally:
        sub.close()
    if cleanup != "none":
        wait_swept(bench, keep=opts.threads * 4, timeout=opts.sweep_ttl * 60 + 600)
    trace = Trace(opts.threads, opts.bursts, opts.k, opts.after_seconds, opts.gap_in, opts.gap_out)
    row = _trace(bench, "ours", "growth" if cleanup == "none" else "growth-swept", trace)
    return {**row, "cleanup": cleanup, "threads_served": opts.growth}


def _wave(bench: Bench, opts: argparse.Namespace, name: str, extractor: str) -> dict[str, Any]:
    sub = _submitter(bench, name, "wave")
    try:
        return {"extractor": extractor, **run_wave(bench, sub, opts.wave, opts.wave_due_in)}
    finally:
        sub.close()


def _submitter(bench: Bench, name: str, workload: str) -> Submitter:
    label = f"{name}-{workload}"
    sub = FACTORIES[name](bench.server.url, ("bench", bench.run_id, label))
    sub.label = label
    return sub


def main(argv: list[str] | None = None) -> int:
    """Run, print the tables, write the JSON record."""
    opts = _parser().parse_args(argv)
    record = run(opts)
    print(f"\nBenchmarks on {record['machine']} ({record['date']})\n")
    print("Bursty chat trace\n")
    print(table(record["trace"], TRACE_COLUMNS))
    if record["growth"]:
        print("\nGrowth: our trace before and after many finished threads\n")
        print(table(record["growth"], GROWTH_COLUMNS))
    if record["wave"]:
        print("\nQuiet threads falling due in the same second\n")
        print(table(record["wave"], WAVE_COLUMNS))
    growth = record.pop("growth")
    save(record, opts.out)
    print(f"\nwritten to {opts.out}")
    if growth:  # its own file: the long growth runs are not repeated with every bench run
        out = opts.out.with_name("growth.json")
        save({**record, "trace": [], "wave": [], "growth": growth}, out)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
