"""Facts from a conversation, and the store keys that make a newer value an update.

A fact with a *slot* (name, home, age, work, the taste of X, "my X is …") has
one key per namespace and slot, so a newer value replaces the stored one ("I'm
31 now" replaces "User is 30 years old."); any other fact's key is a hash of its
normalised text, so saying it again stores nothing new.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphs.memory_manager.offline.rules import match, replacement
from graphs.memory_manager.offline.text import clauses

__all__ = [
    "Fact",
    "Replacement",
    "extract_facts",
    "extract_replacements",
    "fact_key",
    "memory_value",
    "profile_key",
    "same_wording",
]

_KEY_NAMESPACE = uuid.UUID("0b7e4f5a-2c1d-4e8f-9a6b-3d5c7e9f1a2b")


@dataclass(frozen=True)
class Fact:
    """One fact the extractor found, ready to store."""

    kind: str
    text: str
    slot: str | None
    message_id: str
    obj: str = ""
    """What the fact is about ("Lisbon", "tea", "34"): the value a typed memory stores."""
    settles: str | None = None
    """Another slot this fact answers too (its older memory is replaced): see ``rules``."""


def _ident(fact: Fact) -> str:
    return f"slot:{fact.slot}" if fact.slot else f"text:{fact.text.lower()}"


# "I'm really into sushi now, it's my favourite food": "it" is what the turn just named.
_FAVOURITE_OF_IT = re.compile(
    r"^(?:it|they|that|this) (?:is|are) (?P<rest>(?:now |also |definitely )?my (?:new )?"
    r"(?:favou?rite|fave|fav)\b.*)$",
    re.I,
)
# "I love the colour orange, it's my favourite": the kind of thing names the favourite.
_KIND_OF = re.compile(
    r"^(?:the )?(?P<noun>colou?r|food|dish|meal|sport|film|movie|book|band|song|show|game|drink|"
    r"season|animal|flower|city|country|author|singer|artist|genre|fruit|snack|dessert|cuisine) "
    r"(?P<x>(?!(?:of|for|in|on|at|from|with)\b).+)$",
    re.I,
)
_BARE_FAVOURITE = re.compile(
    r"^(?:now |also |definitely )?my (?:new )?(?:favou?rite|fave|fav)$", re.I
)
# How much one likes it is not part of what: "I like mustard best now".
_DEGREE = re.compile(r"\s+(?:best|the best|most|the most|a lot|so much|very much)$", re.I)


def _named(obj: str) -> str | None:
    """What a fact's object can stand for in a later "it": a short noun phrase, or None."""
    obj = _DEGREE.sub("", obj).strip()
    words = obj.split()
    if not 1 <= len(words) <= 4 or words[0].lower() in ("to", "with", "at", "in", "on", "for"):
        return None
    return obj


def extract_facts(messages: Sequence[Mapping[str, Any]]) -> list[Fact]:
    """Every fact stated in the user turns of ``messages``; a later value of a slot wins."""
    by_key: dict[str, Fact] = {}
    for msg in messages:
        if msg["role"] != "user":
            continue
        named: str | None = None
        liked: str | None = None  # the key of the taste that "named" came from
        for clause in clauses(msg["content"]):
            if named and (it := _FAVOURITE_OF_IT.match(clause)):
                rest = it["rest"]
                if kind := _KIND_OF.match(named):
                    named = kind["x"]
                    if _BARE_FAVOURITE.match(rest):
                        rest = f"{rest} {kind['noun']}"
                clause = f"{named} is {rest}"
                if liked:
                    # "I love green, it's my favourite colour": the favourite says it all, and
                    # a "likes green" left behind would outlive the next favourite colour.
                    by_key.pop(liked, None)
            found = match(clause)
            named = _named(found.obj) if found else None
            if found is None:
                liked = None
                continue
            fact = Fact(found.kind, found.text, found.slot, msg["id"], found.obj, found.settles)
            taste = fact.slot is not None and fact.slot.startswith("taste:")
            liked = _ident(fact) if taste else None
            if fact.settles:
                by_key.pop(f"slot:{fact.settles}", None)  # said before it in this batch
            by_key.pop(_ident(fact), None)  # re-insert so the order follows the conversation
            by_key[_ident(fact)] = fact
    return list(by_key.values())


@dataclass(frozen=True)
class Replacement:
    """A new value said against a named old one, for whatever memory holds the old one."""

    old: str
    new: str
    message_id: str


def extract_replacements(messages: Sequence[Mapping[str, Any]]) -> list[Replacement]:
    """The user turns' "X, not Y" and "I left Y for X": clauses no rule took as a fact."""
    found = []
    for msg in messages:
        if msg["role"] != "user":
            continue
        for clause in clauses(msg["content"]):
            if match(clause) is None and (pair := replacement(clause)):
                found.append(Replacement(pair[0], pair[1], msg["id"]))
    return found


def replaced(text: str, change: Replacement) -> str | None:
    """``text`` with ``change.old`` (as a whole phrase, in any case) made ``change.new``."""
    pattern = re.compile(rf"(?<![\w'-]){re.escape(change.old)}(?![\w'-])", re.I)
    return pattern.sub(lambda _: change.new, text) if pattern.search(text) else None


def fact_key(namespace: Sequence[str], fact: Fact) -> str:
    """The store key of a fact: one per slot, or one per distinct text."""
    return slot_key(namespace, _ident(fact))


def settled_key(namespace: Sequence[str], fact: Fact) -> str | None:
    """The store key of the other slot ``fact`` answers (its memory is replaced), if any."""
    return slot_key(namespace, f"slot:{fact.settles}") if fact.settles else None


def slot_key(namespace: Sequence[str], ident: str) -> str:
    return uuid.uuid5(_KEY_NAMESPACE, "\x1f".join([*namespace, ident])).hex


def profile_key(namespace: Sequence[str], name: str) -> str:
    """The store key of the one profile document of memory type ``name`` in ``namespace``."""
    return uuid.uuid5(_KEY_NAMESPACE, "\x1f".join([*namespace, "profile:" + name])).hex


# Spellings of one word: "favorite color" restates "favourite colour", it changes nothing.
_SPELLINGS = {"favorite": "favourite", "color": "colour", "colors": "colours"}


def _spelled(text: str) -> list[str]:
    return [_SPELLINGS.get(w, w) for w in re.findall(r"[\w']+", text.lower())]


def same_wording(a: str, b: str) -> bool:
    """Whether two memory texts differ only in case, punctuation or spelling."""
    return _spelled(a) == _spelled(b)


def memory_value(fact: Fact) -> dict[str, object]:
    """The stored value, in langmem's memory format."""
    return {"kind": "Memory", "content": {"content": fact.text}}
