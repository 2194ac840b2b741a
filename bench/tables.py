"""Markdown tables of measured figures: one home for every results file's columns.

The benchmarks and the reliability suite print these tables when they run, and
``python -m bench.report`` renders the same ones into ``docs/`` from
``bench/results/*.json``. Each column list is ``(key in a result row, title)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Columns = list[tuple[str, str]]

# bench.json (python -m bench)
TRACE_COLUMNS: Columns = [
    ("contender", "contender"), ("full_history", "full history"),
    ("turns_kept_pct", "turns kept %"), ("runs_per_burst", "runs/burst"),
    ("llm_calls_per_burst", "LLM calls/burst"),
    ("prompt_tokens_per_burst", "prompt tokens/burst (chars/4)"),
    ("prompt_tokens_vs_floor", "× floor"),
    ("recorded_prompt_tokens_per_burst", "recorded prompt tokens/burst"),
    ("recorded_completion_tokens_per_burst", "recorded completion tokens/burst"),
    ("submit_p50_us", "submit p50 µs"),
    ("submit_p99_us", "submit p99 µs"), ("http_per_submission", "HTTP/submission"),
    ("start_lag_p50_s", "lag p50 s"), ("start_lag_p99_s", "lag p99 s"),
]  # fmt: skip
GROWTH_COLUMNS: Columns = [
    ("cleanup", "cleanup"), ("threads_served", "threads served before"),
    ("threads_on_server", "threads on server"), ("runs_per_burst", "runs/burst"),
    ("turns_kept_pct", "turns kept %"), ("start_lag_p50_s", "lag p50 s"),
    ("start_lag_p99_s", "lag p99 s"), ("rss_mib", "server RSS MiB"),
]  # fmt: skip
WAVE_COLUMNS: Columns = [
    ("contender", "contender"),
    ("extractor", "extractor"), ("threads", "threads"), ("accepted_s", "all accepted s"),
    ("accepted_per_s", "accepted/s"), ("start_lag_p50_s", "lag p50 s"),
    ("start_lag_p99_s", "lag p99 s"), ("drain_s", "drained s after due"),
    ("rss_before_mib", "server RSS before MiB"), ("rss_after_mib", "after MiB"),
]  # fmt: skip
# submit_latency.json (python -m bench.submit_latency)
SUBMIT_LATENCY_COLUMNS: Columns = [
    ("contender", "contender"), ("calling_threads", "calling threads"),
    ("submissions", "submissions"), ("submit_p50_us", "p50 µs"), ("submit_p99_us", "p99 µs"),
    ("submit_max_us", "max µs"), ("all_accepted_s", "all accepted s"),
    ("all_processed_s", "all processed s"),
]  # fmt: skip
# run_cost.json (python -m bench.run_cost): server CPU per run, and a fresh server's first runs
RUN_COST_COLUMNS: Columns = [
    ("graph", "graph"), ("threads", "runs"), ("facts_stated", "distinct facts stated"), ("memories", "memories written"),
    ("cpu_ms_per_run", "server CPU ms/run"),
    ("vs_noop", "× no-op"), ("drain_s", "wave drained s after due"),
]  # fmt: skip
# run_parts.json (python -m bench.run_parts)
RUN_PARTS_COLUMNS: Columns = [
    ("part", "part of a run"), ("cpu_ms", "server CPU ms"), ("vs_noop", "× no-op"),
    ("how", "measured as"),
]  # fmt: skip
FIRST_RUN_COLUMNS: Columns = [
    ("server_ready_s", "server ready s"), ("embedder_ready_logged", "embedder ready logged"),
    ("first_run_s", "1st run s"), ("second_run_s", "2nd run s"), ("tenth_run_s", "10th run s"),
    ("first_vs_tenth", "1st / 10th"),
]  # fmt: skip
# quality.json (python -m bench.quality): its rows, and its embedder record as one row
QUALITY_COLUMNS: Columns = [
    ("variant", "store"), ("memories_per_user", "memories/user"),
    ("duplicates_per_user", "duplicates/user"), ("facts_kept", "facts kept"),
    ("recall_at_5", "recall@5"), ("recall_at_1", "recall@1"),
    ("contradictions_resolved", "contradictions resolved"), ("seconds", "run s"),
]  # fmt: skip
# quality.json's offline_set: the offline extractor on bench/data/offline_facts.json
OFFLINE_SET_COLUMNS: Columns = [
    ("set", "labelled turns"), ("turns", "turns"), ("facts_found", "facts found"),
    ("recall", "recall"), ("negatives_stored", "fact-free turns that stored something"),
    ("false_store_pct", "false stores %"),
]  # fmt: skip
EMBEDDER_COLUMNS: Columns = [
    ("install_mib", "`embeddings` extra MiB"), ("torch_mib", "of which torch MiB"),
    ("model_mib", "model MiB"), ("packages", "packages"),
    ("first_query_s", "first query in a fresh process s"), ("next_query_ms", "later query ms"),
]  # fmt: skip
# scaleout.json (python -m bench.scaleout)
SCALEOUT_COLUMNS: Columns = [
    ("processes", "server processes"), ("extractor", "extractor"), ("threads", "threads"),
    ("accepted_s", "all accepted s"), ("start_lag_p50_s", "lag p50 s"),
    ("start_lag_p99_s", "lag p99 s"), ("drain_s", "drained s after due"),
    ("cpu_ms_per_run", "server CPU ms/run"), ("noop_cpu_ms_per_run", "no-op graph CPU ms/run"),
]  # fmt: skip
# backfill.json (python -m bench.backfill): a row without the backfill, then one with it
BACKFILL_COLUMNS: Columns = [
    ("server", "server"), ("run", "run"), ("thread_ttl_min", "thread TTL min"),
    ("backfill", "backfill running"), ("conversations", "conversations"),
    ("turns", "turns each"), ("concurrency", "--concurrency"),
    ("conversations_per_s", "conversations/s"),
    ("cpu_ms_per_conversation", "server CPU ms/conversation"), ("facts_stated", "distinct facts stated"), ("memories", "memories written"),
    ("live_turns", "live turns"), ("live_p50_s", "live submit→processed p50 s"),
    ("live_p95_s", "live p95 s"), ("live_failed", "live failed"),
]  # fmt: skip
# consolidation.json (python -m bench.consolidation): before vs after, and the LLM path's tokens
CONSOLIDATION_COLUMNS: Columns = [
    ("part", "users"), ("state", "state"), ("users", "namespaces"),
    ("memories", "memories"), ("duplicates_left", "duplicates left"),
    ("stale_left", "stale facts left"), ("facts_lost", "facts lost"),
    ("over_bound", "over max_memories"), ("retired", "retired"), ("refused", "refused"),
    ("tokens_per_consolidation", "tokens/consolidation"),
]  # fmt: skip
CONSOLIDATION_TOKEN_COLUMNS: Columns = [
    ("part", "users"), ("namespaces", "namespaces"),
    ("memories_per_namespace", "memories/namespace"), ("model_calls", "model calls"),
    ("prompt_tokens", "prompt tokens/consolidation"),
    ("completion_tokens", "completion tokens/consolidation"),
]  # fmt: skip
# reliability.json (make reliability: tests/reliability/conftest.py)
RELIABILITY_COLUMNS: Columns = [
    ("fault", "fault"), ("submitted", "submitted"), ("reached_memory", "reached memory"),
    ("duplicates", "duplicates"), ("errors_surfaced", "errors surfaced"), ("note", "notes"),
]  # fmt: skip


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def table(rows: Sequence[Mapping[str, Any]], columns: Columns) -> str:
    """Rows as a markdown table; a column of numbers only is right-aligned.

    A column that no row has is left out: a results file written before the
    column existed still renders (the next run fills it in).
    """
    if rows:
        columns = [(key, title) for key, title in columns if any(key in r for r in rows)]
    head = "| " + " | ".join(title for _, title in columns) + " |"
    rule = "|" + "|".join(
        "---:" if rows and all(_numeric(r.get(key)) for r in rows) else "---"
        for key, _ in columns
    ) + "|"  # fmt: skip
    body = ["| " + " | ".join(_cell(r.get(key, "")) for key, _ in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])
