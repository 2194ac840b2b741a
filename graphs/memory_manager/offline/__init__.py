"""The offline extractor: deterministic, rule-based memory extraction with no model or key.

It is what runs when no ``model`` is configured, so the product works with zero
keys. It reads **user** turns only and keeps first-person statements of lasting
facts, rewritten in the third person ("I speak Basque and Italian" → "User
speaks Basque and Italian."): name, residence, origin and moves, age, family and
relationships, pets, languages, diet, allergies and health, work and study,
tools, habits and hobbies, possessions, ongoing goals, life events, likes and
dislikes, "I am a …" and "my … is …". It refuses questions, requests to the
assistant, hedges, passing moods and what happened today; it misses facts
rather than inventing them. ``docs/extraction.md`` has its measured recall.

The parts, in the order a turn passes them:

- :mod:`.text`: normalise a turn, cut it into clauses, drop what cannot be a fact;
- :mod:`.rules`: the patterns and their third-person templates;
- :mod:`.facts`: facts of a conversation and their store keys (a newer value of a
  slot, such as home or age, updates the stored one);
- :mod:`.memory_types`: facts into the configured memory types (profiles, collections);
- :mod:`.dedup`: skip a fact the semantic index already knows in other words;
- :mod:`.slots`: a stored memory's single-valued attribute, read back through the rules
  (consolidation retires the older of two values);
- :mod:`.extractor`: :func:`extract_offline`, the one entry point the graph calls.
"""

from graphs.memory_manager.offline.extractor import extract_offline
from graphs.memory_manager.offline.facts import (
    Fact,
    extract_facts,
    fact_key,
    memory_value,
    profile_key,
)

__all__ = ["Fact", "extract_facts", "extract_offline", "fact_key", "memory_value", "profile_key"]
