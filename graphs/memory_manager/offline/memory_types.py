"""Memory types for the offline extractor: facts into profile documents and collection items.

Memory types are the ``schemas`` of the context, in langchain-ai/memory-template's
``memory_types`` shape: ``{"name", "description", "parameters" (JSON schema),
"update_mode"}``. The LLM path hands them to langmem; here the offline
extractor fills them by rule, from what a property is called:

- ``update_mode: "patch"`` (a profile): one document per namespace, stored under
  ``(*namespace, name)``. A fact goes into the first property whose name
  matches its kind (name → ``name``/``user_name``; home → ``home``/``city``/
  ``location``; work → ``occupation``/``job``; age → ``age``; likes →
  ``interests``/``likes``/``hobbies``; languages → ``languages``; diet →
  ``diet``; allergies and health → ``allergies``/``health``; pets → ``pets``;
  family → ``family``/``children``; study → ``education``; …). Strings and numbers are replaced
  (a newer value wins); arrays gain the value. A dislike also takes the
  value out of the likes arrays; unless a ``dislikes`` property takes it, it
  goes on to the collections.
- ``update_mode: "insert"`` (a collection): one item per fact, like the
  default free-text memory. A text-like property (``content``, ``text``,
  ``memory``, ``note``, ``fact``…) gets the fact's sentence, ``item``/
  ``subject``/``topic``/``value`` what it is about, ``context``/``source``
  the user's turn, ``kind``/``category`` its kind, a boolean ``likes``/
  ``positive`` whether it is a like; a schema whose required properties
  cannot all be filled does not take the fact.

Values use langmem's format ``{"kind": <name>, "content": {...}}``, so the
LLM path can later update what the offline extractor wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphs.memory_manager.offline.facts import Fact

__all__ = ["apply_to_profile", "collection_value", "profile_property"]

# Fact kind -> words a profile property's name may contain to take that fact.
_PROFILE_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "home": ("home", "city", "location", "residence", "address", "lives"),
    "origin": ("origin", "hometown", "nationality", "country"),
    "work": ("occupation", "job", "work", "profession", "employer", "company"),
    "age": ("age",),
    "preference": ("interests", "interest", "likes", "hobbies", "preferences", "favorites"),
    "dislike": ("dislikes", "dislike"),
    "language": ("languages", "language"),
    "diet": ("diet", "dietary"),
    "health": ("allergies", "allergy", "health", "medical", "conditions"),
    "pet": ("pets", "pet"),
    "family": ("family", "children", "kids", "relatives"),
    "study": ("education", "school", "studies", "university"),
}
_TEXT = ("content", "text", "memory", "note", "fact", "statement", "summary", "description")
_ABOUT = ("item", "subject", "topic", "value", "object", "thing", "name")
_SOURCE = ("context", "source", "evidence", "quote")
_KIND = ("kind", "category", "type")
_LIKES = ("likes", "like", "liked", "positive", "sentiment_positive")


def _words(prop: str) -> list[str]:
    return [w for w in re.split(r"[_\W]+", prop.lower()) if w]


def _properties(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    props = schema["parameters"].get("properties") or {}
    return {str(k): v if isinstance(v, dict) else {} for k, v in props.items()}


def profile_property(schema: Mapping[str, Any], fact: Fact) -> str | None:
    """The property of a profile schema that takes ``fact``, or None."""
    wanted = _PROFILE_WORDS.get(fact.kind, ())
    for prop in _properties(schema):
        if any(w in wanted for w in _words(prop)):
            return prop
    return None


def _coerce(spec: Mapping[str, Any], value: str) -> Any:
    if spec.get("type") == "integer":
        return int(value) if value.isdigit() else None
    if spec.get("type") == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return value


def apply_to_profile(
    schema: Mapping[str, Any], document: Mapping[str, Any], facts: Sequence[Fact]
) -> tuple[dict[str, Any], list[Fact]]:
    """Patch ``document`` (a profile's content) with ``facts``; return it and the facts left."""
    doc = dict(document)
    props = _properties(schema)
    rest: list[Fact] = []
    likes = [
        p
        for p, spec in props.items()
        if spec.get("type") == "array" and any(w in _PROFILE_WORDS["preference"] for w in _words(p))
    ]
    for fact in facts:
        if fact.kind == "dislike":  # "I hate skiing now": no longer an interest
            for p in likes:
                if isinstance(doc.get(p), list):
                    doc[p] = [x for x in doc[p] if x != fact.obj]
        prop = profile_property(schema, fact)
        if prop is None:
            rest.append(fact)
            continue
        spec = props[prop]
        if spec.get("type") == "array":
            doc[prop] = [*(x for x in doc.get(prop) or [] if x != fact.obj), fact.obj]
        else:
            value = _coerce(spec, fact.obj)
            if value is None:
                rest.append(fact)
            else:
                doc[prop] = value
    return doc, rest


def _fill(prop: str, spec: Mapping[str, Any], fact: Fact, source: str) -> Any:
    words = _words(prop)
    if spec.get("type") == "boolean":
        # Only a like or a dislike says anything about "likes".
        if fact.kind in ("preference", "dislike") and any(w in _LIKES for w in words):
            return fact.kind == "preference"
        return None
    for group, value in (
        (_TEXT, fact.text),
        (_ABOUT, fact.obj),
        (_SOURCE, source),
        (_KIND, fact.kind),
    ):
        if any(w in group for w in words):
            return value
    return None


def collection_value(
    schemas: Sequence[Mapping[str, Any]], fact: Fact, source: str
) -> dict[str, Any] | None:
    """The stored value of ``fact`` in the first collection schema it fits, or None."""
    for schema in schemas:
        props = _properties(schema)
        content = {p: v for p, s in props.items() if (v := _fill(p, s, fact, source)) is not None}
        required = schema["parameters"].get("required") or []
        if content and all(r in content for r in required):
            return {"kind": schema["name"], "content": content}
    return None
