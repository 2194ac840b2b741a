"""The workloads: a bursty chat trace (single turns or full history) and a wave of quiet threads."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.harness import Bench, Submitter, sdk_client, tag_of, thread_uuid, turn_text
from deploy.devserver import wait_until
from tests.llm_endpoint import user_turns


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Trace:
    """Shape of a bursty chat trace."""

    threads: int = 10
    bursts: int = 2
    k: int = 5
    after_seconds: float = 1.5
    gap_in: float = 0.2
    gap_out: float = 4.0
    full_history: bool = False


def _messages(history: list[dict[str, Any]], text: str, full: bool, k: int) -> list[dict[str, Any]]:
    turn = {"role": "user", "content": text}
    if not full:
        return [turn]
    history.extend([turn, {"role": "assistant", "content": f"noted {len(history) // 2}"}])
    return list(history)


def run_trace(bench: Bench, sub: Submitter, trace: Trace) -> dict[str, Any]:
    """Drive one contender through the trace and measure it."""
    keys = [f"{bench.run_id}-{sub.label}-{t}" for t in range(trace.threads)]
    histories: list[list[dict[str, Any]]] = [[] for _ in keys]
    submitted_at: dict[str, float] = {}
    latencies: list[float] = []
    llm_start = bench.llm.calls
    futures = []
    for b in range(trace.bursts):
        for k in range(trace.k):
            for t, key in enumerate(keys):
                text = turn_text(sub.label, t, b, k)
                msgs = _messages(histories[t], text, trace.full_history, k)
                t0 = time.perf_counter()
                futures.append(sub.submit(key, msgs, trace.after_seconds))
                latencies.append(time.perf_counter() - t0)
                submitted_at[text.split(" ", 1)[0]] = time.time()
            time.sleep(trace.gap_in)
        time.sleep(trace.gap_out)
    sub.drain(keys, timeout=300)
    for fut in futures:
        fut.result(timeout=60)
    return _measure(bench, sub, trace, keys, submitted_at, latencies, llm_start)


def _measure(
    bench: Bench,
    sub: Submitter,
    trace: Trace,
    keys: list[str],
    submitted_at: dict[str, float],
    latencies: list[float],
    llm_start: int,
) -> dict[str, Any]:
    bursts = trace.threads * trace.bursts
    turns = len(submitted_at)
    kept = _kept_tags(bench, sub) & set(submitted_at)
    calls = bench.llm_calls(sub.label, since=llm_start)
    tokens = [len(json.dumps(c.get("messages", []))) / 4 for c in calls]
    turn_tokens = [sum(len(x) for x in user_turns(c)) / 4 for c in calls]
    overhead = (
        statistics.mean(a - b for a, b in zip(tokens, turn_tokens, strict=True)) if calls else 0
    )
    # The floor: one call per burst carrying the fixed prompt once and each turn once.
    floor = overhead + trace.k * len(turn_text(sub.label, 0, 0, 0)) / 4
    after = trace.after_seconds if sub.debounces else 0.0
    runs, lags, spent = _runs_and_lags(bench, keys, submitted_at, after)
    us = [x * 1e6 for x in latencies]
    return {
        "contender": sub.name,
        "threads_on_server": threads_on_server(bench),
        "full_history": trace.full_history,
        "turns_submitted": turns,
        "turns_kept_pct": round(100 * len(kept) / turns, 1),
        "runs_per_burst": round(runs / bursts, 2),
        "llm_calls_per_burst": round(len(calls) / bursts, 2),
        "prompt_tokens_per_burst": round(sum(tokens) / bursts, 1),
        "prompt_tokens_vs_floor": round(sum(tokens) / bursts / floor, 3) if floor else None,
        # What the runs recorded (the provider's usage; superseded runs leave no record).
        "recorded_prompt_tokens_per_burst": round(spent["prompt_tokens"] / bursts, 1),
        "recorded_completion_tokens_per_burst": round(spent["completion_tokens"] / bursts, 1),
        "model_s_per_burst": round(spent["model_seconds"] / bursts, 3),
        "submit_p50_us": round(pct(us, 0.5), 1),
        "submit_p99_us": round(pct(us, 0.99), 1),
        "http_per_submission": round(sub.transport.submission_requests / turns, 2),
        "start_lag_p50_s": round(pct(lags, 0.5), 3),
        "start_lag_p99_s": round(pct(lags, 0.99), 3),
        "rss_mib": bench.rss_mib(),
    }


def _kept_tags(bench: Bench, sub: Submitter) -> set[str]:
    """Tags of the turns whose content reached memory in the contender's namespace."""
    client = sdk_client(bench.server.url)
    found: set[str] = set()
    offset = 0
    while True:
        page = client.store.search_items(
            ["bench", bench.run_id, sub.label], limit=500, offset=offset
        )["items"]
        for item in page:
            content = item["value"].get("content", {}).get("content", "")
            for line in str(content).splitlines():
                if (t := tag_of(line)) is not None:
                    found.add(t)
        offset += len(page)
        if len(page) < 500:
            break
    client.http.client.close()
    return found


def _runs_and_lags(
    bench: Bench, keys: list[str], submitted_at: dict[str, float], after: float
) -> tuple[int, list[float], dict[str, float]]:
    """Executed runs, each one's start lag (start − (newest turn it saw + after_seconds)),
    and the model usage the runs recorded, summed."""
    client = sdk_client(bench.server.url)
    runs = 0
    lags: list[float] = []
    spent = {"prompt_tokens": 0.0, "completion_tokens": 0.0, "model_seconds": 0.0}
    for key in keys:
        finished: dict[float, dict[str, Any]] = {}
        for state in client.threads.get_history(thread_uuid(key), limit=500):
            values = state.get("values") or {}
            started = (values.get("timing") or {}).get("started_at")
            if started and values.get("processed") and "finished_at" in values["timing"]:
                finished[started] = values
        runs += len(finished)
        for started, values in finished.items():
            for field in spent:
                spent[field] += (values.get("usage") or {}).get(field, 0)
            tags = [m["content"].split(" ", 1)[0] for m in values["processed"]]
            newest = max((submitted_at[t] for t in tags if t in submitted_at), default=None)
            if newest is not None:
                lags.append(started - (newest + after))
    client.http.client.close()
    return runs, lags, spent


def run_wave(bench: Bench, sub: Submitter, threads: int, due_in: float) -> dict[str, Any]:
    """``threads`` quiet threads whose single submission falls due in the same second."""
    keys = [f"{bench.run_id}-{sub.label}-{i}" for i in range(threads)]
    rss_before = bench.rss_mib()
    due = time.time() + due_in
    start = time.perf_counter()
    futures = [
        sub.submit(key, [{"role": "user", "content": turn_text(sub.label, i, 0, 0)}],
                   max(0.0, due - time.time()))
        for i, key in enumerate(keys)
    ]  # fmt: skip
    for fut in futures:
        sub.wait_accepted(fut, timeout=600)
    accepted_s = time.perf_counter() - start
    sub.drain(keys, timeout=900)
    client = sdk_client(bench.server.url)
    starts, ends = [], []
    for key in keys:
        timing = (client.threads.get_state(thread_uuid(key))["values"] or {}).get("timing") or {}
        if "started_at" in timing:
            starts.append(timing["started_at"] - due)
            ends.append(timing.get("finished_at", timing["started_at"]) - due)
    client.http.client.close()
    return {
        "contender": sub.name,
        "threads": threads,
        "accepted_s": round(accepted_s, 2),
        "accepted_per_s": round(threads / accepted_s, 1),
        "start_lag_p50_s": round(pct(starts, 0.5), 2),
        "start_lag_p99_s": round(pct(starts, 0.99), 2),
        "drain_s": round(max(ends, default=float("nan")), 2),
        "rss_before_mib": rss_before,
        "rss_after_mib": bench.rss_mib(),
    }


def populate(bench: Bench, sub: Submitter, threads: int, batch: int = 500) -> None:
    """Leave ``threads`` finished threads on the server (one processed submission each)."""
    for start in range(0, threads, batch):
        keys = [
            f"{bench.run_id}-{sub.label}-{i}" for i in range(start, min(threads, start + batch))
        ]
        for i, key in enumerate(keys):
            sub.submit(key, [{"role": "user", "content": turn_text(sub.label, start + i, 0, 0)}], 0)
        sub.drain(keys, timeout=1800)


def threads_on_server(bench: Bench) -> int:
    """How many threads the server holds."""
    client = sdk_client(bench.server.url)
    try:
        return int(client.threads.count())
    finally:
        client.http.client.close()


def wait_swept(bench: Bench, keep: int, timeout: float) -> None:
    """Wait until the server's sweeper has left at most ``keep`` threads."""
    wait_until(
        lambda: threads_on_server(bench) <= keep, timeout, 2.0, f"at most {keep} threads left"
    )
