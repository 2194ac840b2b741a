"""``python -m bench.consolidation``: what consolidation leaves of users' namespaces, before vs after.

``bench/data/consolidation.json`` holds users' memory namespaces with planted
near-duplicates (one fact in other words), contradictions (an older and a newer value
of one attribute, timestamped), namespaces over a ``max_memories`` bound and plain
facts that must survive. Each namespace is written, oldest memory first, into an
in-memory store with the semantic index ``langgraph.json`` declares (the local MiniLM),
and consolidated by :func:`~graphs.memory_manager.consolidate.consolidate`, the
function the graph's ``extract`` step runs, with the default settings. Counted, before
and after:

- **duplicates left**: surviving memories of one current fact beyond the first;
- **stale facts left**: surviving older values;
- **facts lost**: current facts no memory states any more, beyond what the bound
  requires (a namespace of 7 facts bound to 5 must lose 2);
- **over the bound**, **retired**, and **refused** (consolidations that changed nothing
  because the plan would retire more than ``consolidation_max_share``).

The LLM path is run too, against the scripted OpenAI-compatible endpoint on 127.0.0.1
(``tests/llm_endpoint.py``) answering each call with the labels: that measures the
tokens one call per namespace costs (the real prompt, counted as a GPT tokenizer
splits it), not a model's judgement, so only its tokens are reported.

``--part dev`` scores only what tuning may look at; ``--blind`` records the held-out
score of this run as the blind figure (once, before any change it prompts), which later
runs keep. Results: ``bench/results/consolidation.json``; ``make report`` renders them
into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.store.memory import InMemoryStore

from bench.machine import header, save
from bench.tables import CONSOLIDATION_COLUMNS, CONSOLIDATION_TOKEN_COLUMNS, table
from graphs.memory_manager.consolidate import ConsolidationRefusedError, consolidate
from graphs.memory_manager.consolidate_model import TOOL
from graphs.memory_manager.context import Context
from graphs.memory_manager.usage import recording

__all__ = ["DATA", "RESULTS", "expected_retirements", "load", "main", "score"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "consolidation.json"
RESULTS = ROOT / "bench" / "results" / "consolidation.json"
PARTS = ("dev", "held_out")
LLM_MODEL = "openai:gpt-4.1-mini"


def load(path: Path = DATA) -> dict[str, Any]:
    """The labelled namespaces."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _store() -> InMemoryStore:
    from graphs.memory_manager.embeddings import ConfiguredEmbeddings

    index = json.loads((ROOT / "langgraph.json").read_text())["store"]["index"]
    return InMemoryStore(index={**index, "embed": ConfiguredEmbeddings("local")})


async def _plant(store: InMemoryStore, user: dict[str, Any]) -> tuple[str, ...]:
    namespace = ("memories", user["id"])
    for memory in sorted(user["memories"], key=lambda m: m["at"]):
        value = {"kind": "Memory", "content": {"content": memory["text"]}}
        await store.aput(namespace, memory["key"], value)
        # The store stamps each write with the clock: this keeps the labelled order.
        await asyncio.sleep(0.002)
    return namespace


def _bound(user: dict[str, Any]) -> int:
    return int(user.get("max_memories", 0))


def counts(user: dict[str, Any], surviving: set[str]) -> Counter[str]:
    """Duplicates left, stale facts left, facts lost and over-the-bound for what survived."""
    memories = user["memories"]
    current = {m["fact"] for m in memories if not m["stale"]}
    left = Counter(m["fact"] for m in memories if m["key"] in surviving and not m["stale"])
    lost = len(current - set(left))
    bound = _bound(user)
    required = max(0, len(current) - bound) if bound else 0
    return Counter(
        memories=len(surviving),
        duplicates_left=sum(n - 1 for n in left.values()),
        stale_left=sum(1 for m in memories if m["key"] in surviving and m["stale"]),
        facts_lost=max(0, lost - required),
        over_bound=int(bool(bound) and len(surviving) > bound),
    )


def expected_retirements(user: dict[str, Any]) -> dict[str, str]:
    """The labels as an answer: every stale memory, and all but the newest of each fact."""
    newest: dict[str, dict[str, Any]] = {}
    for memory in sorted(user["memories"], key=lambda m: m["at"]):
        if not memory["stale"]:
            newest[memory["fact"]] = memory
    out = {}
    for memory in user["memories"]:
        keep = newest.get(memory["fact"])
        if keep is not None and keep["key"] != memory["key"]:
            why = "older value" if memory["stale"] else "duplicate"
            out[memory["key"]] = f"{why} of {keep['key']}"
    return out


async def _consolidate(
    store: InMemoryStore, user: dict[str, Any], model: str | None
) -> tuple[dict[str, str] | None, dict[str, Any]]:
    """The retirements (None: refused) and the model usage of one consolidation."""
    namespace = await _plant(store, user)
    context = Context(model=model, namespace=list(namespace), max_memories=_bound(user))
    with recording() as recorder:
        try:
            ops = await consolidate(context, namespace, store)
        except ConsolidationRefusedError:
            return None, dict(recorder.summary())
    return {op["key"]: op.get("reason", "") for op in ops}, dict(recorder.summary())


def score(users: Sequence[dict[str, Any]], *, model: str | None = None) -> dict[str, Any]:
    """Consolidate each user's namespace; the before and after counts, and what went wrong."""
    return asyncio.run(_score(users, model))


async def _score(users: Sequence[dict[str, Any]], model: str | None) -> dict[str, Any]:
    store = _store()
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    usage: Counter[str] = Counter()
    misses = []
    for user in users:
        everything = {m["key"] for m in user["memories"]}
        before += counts(user, everything) + Counter(users=1)
        retired, spent = await _consolidate(store, user, model)
        usage += Counter({k: v for k, v in spent.items() if isinstance(v, int)})
        kept = everything - set(retired or {})
        got = counts(user, kept)
        after += got + Counter(users=1, retired=len(retired or {}), refused=int(retired is None))
        if retired is None or got["duplicates_left"] or got["stale_left"] or got["facts_lost"]:
            texts = {m["key"]: m["text"] for m in user["memories"]}
            misses.append(
                f"{user['id']}: {dict(+got) or 'ok'}"
                + (" REFUSED" if retired is None else "")
                + "".join(
                    f"\n    retired {texts[k]!r}: {why}" for k, why in (retired or {}).items()
                )
                + "".join(f"\n    kept {texts[k]!r}" for k in sorted(kept))
            )
    return {"before": before, "after": after, "usage": usage, "misses": misses}


def _row(part: str, state: str, tally: Counter[str], tokens: str = "0") -> dict[str, Any]:
    return {
        "part": part,
        "state": state,
        "users": tally["users"],
        "memories": tally["memories"],
        "duplicates_left": tally["duplicates_left"],
        "stale_left": tally["stale_left"],
        "facts_lost": tally["facts_lost"],
        "over_bound": tally["over_bound"],
        "retired": tally["retired"],
        "refused": tally["refused"],
        "tokens_per_consolidation": tokens,
    }


def rows(part: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The before and after rows of one part, offline."""
    return [
        _row(part, "before", result["before"], "-"),
        _row(part, "after, offline (embeddings + rules)", result["after"]),
    ]


@contextmanager
def _scripted_model(users: Sequence[dict[str, Any]]) -> Iterator[None]:
    """The LLM path's model: the scripted endpoint, answering each namespace with its labels."""
    from tests.llm_endpoint import run_llm_endpoint

    with run_llm_endpoint() as llm:
        for user in users:
            if len(user["memories"]) >= 2:  # fewer makes no call
                answer = [{"key": k, "reason": r} for k, r in expected_retirements(user).items()]
                llm.canned.append([(TOOL, {"retire": answer})])
        saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
        os.environ.update(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="sk-test-not-a-secret")
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def token_rows(parts: dict[str, Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Tokens per consolidation on the LLM path (one call per namespace of two or more).

    One endpoint and one event loop for every part: the chat model is built once per
    process (``extractors.chat_model``), with the endpoint's URL and its loop's client.
    """
    everyone = [user for users in parts.values() for user in users]
    with _scripted_model(everyone):
        return asyncio.run(_token_rows(parts))


async def _token_rows(parts: dict[str, Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for part, users in parts.items():
        result = await _score(users, LLM_MODEL)
        usage, n = result["usage"], len(users)
        out.append({
            "part": part,
            "namespaces": n,
            "memories_per_namespace": round(result["before"]["memories"] / n, 1),
            "model_calls": usage["model_calls"],
            "prompt_tokens": round(usage["prompt_tokens"] / n),
            "completion_tokens": round(usage["completion_tokens"] / n),
        })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Score the parts asked for, print the tables with the machine, save the results."""
    p = argparse.ArgumentParser(prog="python -m bench.consolidation", description=__doc__)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--part", choices=PARTS, action="append")
    p.add_argument("--misses", action="store_true", help="name every namespace not clean")
    p.add_argument("--blind", action="store_true", help="record held_out as the blind figure")
    p.add_argument("--no-llm", action="store_true", help="skip the LLM path's token count")
    p.add_argument("--out", type=Path, default=RESULTS)
    opts = p.parse_args(argv)
    data = load(opts.data)
    parts = opts.part or list(PARTS)
    record: dict[str, Any] = {**header(opts), "rows": [], "tokens": []}
    previous = json.loads(opts.out.read_text()) if opts.out.exists() else {}
    started = time.monotonic()
    for part in parts:
        result = score(data[part])
        record["rows"] += rows(part, result)
        if part == "held_out" and opts.blind:
            if "blind" in previous:
                p.error("a blind held-out figure is recorded already; it is scored once")
            record["blind"] = {**rows(part, result)[1], "date": record["date"]}
        if opts.misses:
            print(f"\n{part}:", *result["misses"], sep="\n  ")
    if not opts.no_llm:
        record["tokens"] = token_rows({part: data[part] for part in parts})
    if "blind" in previous and "blind" not in record:
        record["blind"] = previous["blind"]
    record["seconds"] = round(time.monotonic() - started, 1)
    print(f"\nConsolidation, {record['machine']} ({record['date']}):\n")
    print(table(record["rows"], CONSOLIDATION_COLUMNS))
    if "blind" in record:
        print(f"\nheld out, scored blind once ({record['blind']['date']}):\n")
        print(table([record["blind"]], CONSOLIDATION_COLUMNS))
    if record["tokens"]:
        print("\nLLM path, tokens per consolidation (scripted endpoint answering the labels):\n")
        print(table(record["tokens"], CONSOLIDATION_TOKEN_COLUMNS))
    if set(parts) == set(PARTS):
        save(record, opts.out)
        print(f"\nsaved {opts.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
