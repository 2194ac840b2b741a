"""The offline extractor's writes: facts into free-text memories, profiles and collections.

:func:`extract_offline` is what the graph's ``extract`` step calls when no
model is configured. It writes through the store it is given (``extract``
passes a :class:`~graphs.memory_manager.staging.StagingStore`, so the writes are
only staged until ``commit``): profile schemas are patched first, then what
they did not take goes to the collection schemas, or, with no schemas, to
langmem-format free-text memories. A new key whose text the semantic index
already knows in other words is skipped (:mod:`.dedup`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langgraph.store.base import BaseStore

from graphs.memory_manager.context import Context
from graphs.memory_manager.offline.dedup import Deduplicator, index_embeddings
from graphs.memory_manager.offline.facts import (
    Fact,
    Replacement,
    extract_facts,
    extract_replacements,
    fact_key,
    memory_value,
    profile_key,
    replaced,
    same_wording,
    settled_key,
)
from graphs.memory_manager.offline.memory_types import apply_to_profile, collection_value
from graphs.memory_manager.offline.slots import memory_slot
from graphs.memory_manager.state import Batch
from sdk_client.records import read_pages

__all__ = ["extract_offline"]


async def _put_if_changed(
    store: BaseStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> None:
    existing = await store.aget(namespace, key)
    if existing is None or existing.value != value:
        await store.aput(namespace, key, value)


def _restated(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` says what the free-text memory ``old`` says, in another spelling."""
    before, after = old.get("content"), new.get("content")
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return False
    texts = before.get("content"), after.get("content")
    return all(isinstance(t, str) for t in texts) and same_wording(str(texts[0]), str(texts[1]))


async def _patch_profile(
    store: BaseStore, namespace: tuple[str, ...], schema: dict[str, Any], facts: list[Fact]
) -> list[Fact]:
    """Patch the one profile document of ``schema``; return the facts it did not take."""
    profile_ns = (*namespace, schema["name"])
    key = profile_key(namespace, schema["name"])
    existing = await store.aget(profile_ns, key)
    document = existing.value.get("content", {}) if existing else {}
    patched, rest = apply_to_profile(schema, document, facts)
    if len(rest) < len(facts):
        await _put_if_changed(store, profile_ns, key, {"kind": schema["name"], "content": patched})
    return rest


async def _apply_replacements(
    store: BaseStore, namespace: tuple[str, ...], changes: list[Replacement], written: set[str]
) -> None:
    """Make "X, not Y" a new value of the one free-text memory that holds Y.

    Only when exactly one memory holds the old value (so a correction never guesses between
    two), and not one this run already writes. The memory keeps its key: the change is an
    update, with the old value in its history.
    """
    items = await read_pages(
        lambda limit, offset: store.asearch(namespace, limit=limit, offset=offset)
    )
    for change in changes:
        hits = []
        for item in items:
            content = item.value.get("content")
            text = content.get("content") if isinstance(content, dict) else None
            if (
                item.key in written
                or item.value.get("kind") != "Memory"
                or not isinstance(text, str)
            ):
                continue
            if (new := replaced(text, change)) is not None:
                hits.append((item.key, new))
        if len(hits) == 1:
            key, text = hits[0]
            await store.aput(namespace, key, {"kind": "Memory", "content": {"content": text}})
            written.add(key)


_BARE = "my favourite"


async def _name_bare_favourites(
    store: BaseStore, namespace: tuple[str, ...], facts: list[Fact]
) -> list[Fact]:
    """Read "my favourite is now X" as the one favourite the memories hold.

    "Scratch that, my favourite is now khachapuri" after "my favourite food is paella" says
    which favourite by leaving it out: the one the user has. Only when the stored memories
    name exactly one kind of favourite; with none or several, the fact stays as it was said.
    """
    if not any(f.slot == _BARE for f in facts):
        return facts
    kinds = set()
    for item in await store.asearch(namespace, limit=1000):
        content = item.value.get("content")
        text = content.get("content") if isinstance(content, dict) else None
        if item.value.get("kind") == "Memory" and isinstance(text, str):
            found = memory_slot(text)
            if found and found.name.startswith(_BARE + " "):
                kinds.add(found.name)
    if len(kinds) != 1:
        return facts
    (kind,) = kinds
    attr = kind.removeprefix("my ")
    return [
        replace(f, slot=kind, text=f.text.replace("User's favourite ", f"User's {attr} ", 1))
        if f.slot == _BARE and f.text.startswith("User's favourite is ")
        else f
        for f in facts
    ]


async def extract_offline(context: Context, batch: Batch, store: BaseStore) -> None:
    """Extract the facts of ``batch``'s user turns and write them to ``store``."""
    namespace = tuple(batch["namespace"])
    facts = extract_facts(batch["messages"])
    schemas = context.schemas or []
    for schema in (s for s in schemas if s["update_mode"] == "patch"):
        facts = await _patch_profile(store, namespace, schema, facts)
    collections = [s for s in schemas if s["update_mode"] == "insert"]
    if schemas and not collections:
        return  # profiles only: what no profile takes is not remembered
    if not schemas:
        facts = await _name_bare_favourites(store, namespace, facts)
    sources = {m["id"]: m["content"] for m in batch["messages"]}
    written = {fact_key(namespace, fact) for fact in facts}
    if not collections and (changes := extract_replacements(batch["messages"])):
        await _apply_replacements(store, namespace, changes, written)
    dedup = Deduplicator(store, namespace, context.dedup_threshold, index_embeddings(store))
    await dedup.prefetch([fact.text for fact in facts])
    for fact in facts:
        value = (
            collection_value(collections, fact, sources.get(fact.message_id, ""))
            if collections
            else memory_value(fact)
        )
        if value is None:
            continue
        settled = settled_key(namespace, fact)
        if settled and settled not in written and await store.aget(namespace, settled):
            # "works as an engineer at Globex" after "is a nurse": the job it names is newer.
            await store.adelete(namespace, settled)
        key = fact_key(namespace, fact)
        existing = await store.aget(namespace, key)
        # An existing key is an update; a new one may still be a known fact in other words.
        if existing is None and await dedup.known(fact.text):
            continue
        if existing is not None and _restated(existing.value, value):
            continue  # the same value, spelled otherwise: "favourite colour" after "favorite color"
        if existing is None or existing.value != value:
            await store.aput(namespace, key, value)
