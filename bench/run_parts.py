"""``python -m bench.run_parts``: where a memory run's server CPU goes, part by part.

The parts are differences of waves on one server (:func:`bench.run_cost.wave`: each
thread one deferred run, all due at once, server CPU read around the wave, the wave's
threads deleted afterwards), in this order:

1. the no-op graph (one step): the server's own work for a run;
2. the no-op graph with three steps, as many as ``memory_manager``: (2) - (1) is what
   two more steps cost;
3. ``memory_manager`` with the offline extractor, each turn stating two facts;
4. the same turns again for new users: the server embeds a distinct text once (its
   vector cache), so (3) - (4) is what embedding a turn's memories costs, and
   (4) - (2) the rest of the graph's work (inbox, memory and receipt reads and
   writes, larger checkpoints).

Then the LLM path's libraries, timed in this process against the scripted model
(``time.thread_time`` of the calling thread; the model answers from other threads):
one call of langmem's memory-store manager as the graph builds and calls it (cached
extractors, the run's store, a user's first turn, no index), of the chat model alone
(``bind_tools(...).ainvoke``) and of the OpenAI client alone
(``chat.completions.create``). The no-op run plus one manager call is the least an
LLM-path run can cost, whatever the graph around it.

Writes ``bench/results/run_parts.json``; ``make report`` renders it into ``README.md``
and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from bench.machine import header, save
from bench.noop_graph import GRAPH_ID as NOOP
from bench.noop_graph import THREE_STEPS_ID
from bench.run_cost import bench_server, wave, wave_parser
from bench.tables import RUN_PARTS_COLUMNS, table
from sdk_client.contract import GRAPH_ID
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint

_MODEL = "openai:gpt-4.1-mini"
_SYSTEM = "Extract the user's lasting facts as memories. " * 10


def server_parts(llm: ScriptedEndpoint, threads: int, due_in: float, jobs: int) -> dict[str, float]:
    """CPU ms per run of the four waves, on one server."""
    waves = [
        ("noop", NOOP, "parts"),
        ("three_steps", THREE_STEPS_ID, "parts"),
        ("offline", GRAPH_ID, "parts"),
        ("offline_cached", GRAPH_ID, "parts-again"),  # same turns, new users
    ]
    cost: dict[str, float] = {}
    with bench_server(llm, jobs) as server:
        for _name, graph, _tag in waves[:3]:  # warm up: first imports, first calls
            wave(server, graph, 3, 0.5, None, "warm-up")
        for name, graph, tag in waves:
            row = wave(server, graph, threads, due_in, None, tag)
            if row["runs_ended_ok"] != threads:
                raise RuntimeError(f"{name}: {row['runs_ended_ok']} of {threads} runs ended well")
            cost[name] = 1000 * row["server_cpu_s"] / threads
    return cost


def _set_environ(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def _environ(values: Mapping[str, str | None]) -> Iterator[None]:
    # The chat model reads the endpoint from the environment, as the server's does.
    saved = {name: os.environ.get(name) for name in values}
    try:
        _set_environ(values)
        yield
    finally:
        _set_environ(saved)


async def _ms_per_call(call: Callable[[int], Awaitable[Any]], calls: int) -> float:
    for i in range(3):  # warm up: connections, first-call caches
        await call(-1 - i)
    started = time.thread_time()
    for i in range(calls):
        await call(i)
    return 1000 * (time.thread_time() - started) / calls


async def _library_parts(calls: int) -> dict[str, float]:
    import openai
    from langchain_core.messages import HumanMessage, SystemMessage
    from langgraph.store.memory import InMemoryStore
    from langmem.knowledge.extraction import Memory

    from graphs.memory_manager.context import Context
    from graphs.memory_manager.extractors import (
        ManagerKey,
        chat_model,
        manager,
        run_store,
        with_namespace,
    )

    def turn(i: int) -> str:
        return f"My name is Human{i}. I live in City{i}."

    context = Context()
    key = ManagerKey(
        model=_MODEL, timeout=context.model_timeout, instructions=context.instructions,
        query_limit=context.query_limit, schemas=(), enable_inserts=context.enable_inserts,
        enable_deletes=context.enable_deletes, namespace_depth=2,
    )  # fmt: skip
    store = InMemoryStore()

    async def langmem_call(i: int) -> Any:
        with run_store(store):  # a new user each call: a first turn
            config = with_namespace({"configurable": {}}, ("parts", f"user-{i}"))
            messages = [HumanMessage(turn(i))]
            return await manager(key).ainvoke({"messages": messages}, config=config)

    bound = chat_model(_MODEL, context.model_timeout).bind_tools([Memory])

    async def model_call(i: int) -> Any:
        return await bound.ainvoke([SystemMessage(_SYSTEM), HumanMessage(turn(i))])

    client = openai.AsyncOpenAI()
    memory = {"name": "Memory", "description": "A memory", "parameters": Memory.model_json_schema()}
    tools: Any = [{"type": "function", "function": memory}]

    async def client_call(i: int) -> Any:
        messages: Any = [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": turn(i)},
        ]
        return await client.chat.completions.create(
            model="gpt-4.1-mini", messages=messages, tools=tools
        )

    try:
        return {
            "langmem": await _ms_per_call(langmem_call, calls),
            "chat_model": await _ms_per_call(model_call, calls),
            "client": await _ms_per_call(client_call, calls),
        }
    finally:
        await client.close()


def library_parts(llm: ScriptedEndpoint, calls: int) -> dict[str, float]:
    """CPU ms per call of langmem's manager, the chat model and the OpenAI client."""
    with _environ(llm.server_env()):
        return asyncio.run(_library_parts(calls))


def rows(server: Mapping[str, float], library: Mapping[str, float]) -> list[dict[str, Any]]:
    """The table: each part, its CPU, and the whole runs against the no-op run."""
    noop = server["noop"]

    def row(part: str, ms: float, how: str, whole: bool = False) -> dict[str, Any]:
        ratio = {"vs_noop": round(ms / noop, 2)} if whole and noop else {}
        return {"part": part, "cpu_ms": round(ms, 2), **ratio, "how": how}

    return [
        row("the server's own work (no-op run)", noop, "one-step no-op graph", True),
        row("two more graph steps", server["three_steps"] - noop, "three-step no-op − no-op"),
        row("embedding an offline turn's two memories",
            server["offline"] - server["offline_cached"], "offline − same turns, cached"),
        row("the rest of an offline run", server["offline_cached"] - server["three_steps"],
            "offline, cached − three-step no-op"),
        row("an offline run", server["offline"], "memory_manager, offline", True),
        row("one call of langmem's manager (a first turn)", library["langmem"],
            "in this process, thread CPU"),
        row("… of it, the chat model alone", library["chat_model"], "bind_tools().ainvoke()"),
        row("… of it, the OpenAI client alone", library["client"],
            "chat.completions.create()"),
        row("the least an LLM-path run can cost", noop + library["langmem"],
            "no-op run + one langmem call", True),
    ]  # fmt: skip


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """The server's waves, then the libraries, against one scripted model."""
    with run_llm_endpoint() as llm:
        server = server_parts(llm, opts.wave, opts.due_in, opts.jobs)
        library = library_parts(llm, opts.calls)
    return {
        **header(opts),
        "server": {k: round(v, 3) for k, v in server.items()},
        "library": {k: round(v, 3) for k, v in library.items()},
        "rows": rows(server, library),
    }


def _parser() -> argparse.ArgumentParser:
    p = wave_parser("run_parts", __doc__, wave=400, due_in=10.0)
    p.add_argument("--calls", type=int, default=200, help="timed calls per library")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON record."""
    opts = _parser().parse_args(argv)
    if opts.smoke:
        opts.wave, opts.due_in, opts.calls = 5, 2.0, 5
    record = run(opts)
    save(record, opts.out)
    print(
        f"\nWhere a run's CPU goes, on {record['machine']} ({record['date']}), written to "
        f"{opts.out}\n\n{table(record['rows'], RUN_PARTS_COLUMNS)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
