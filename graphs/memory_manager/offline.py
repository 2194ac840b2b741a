"""The offline extractor: deterministic, rule-based memory extraction with no model or key.

It is what runs when no ``model`` is configured, so the product works with
zero keys. It reads **user** turns only and keeps first-person facts:

================  ==========================================  =====================================
kind              the user says                               stored as (slot)
================  ==========================================  =====================================
name              my name is X / call me X / I'm called X     User's name is X. (name)
home              I live in X / I moved to X / I'm based in X User lives in X. (home)
origin            I'm from X / I come from X                  User is from X. (origin)
work              I work at/for X / I work as X / my job is X User works at X. (work)
age               I am N years old / I'm N                    User is N years old. (age)
preference        I like/love/enjoy/prefer/adore X            User likes X. (taste of X)
dislike           I dislike/hate/don't like/can't stand X     User dislikes X. (taste of X)
identity          I am a/an X / I'm X (one descriptive word)  User is a X. / User is X.
attribute         my X is Y                                   User's X is Y. (X)
================  ==========================================  =====================================

Memories use langmem's format (``{"kind": "Memory", "content": {"content": ...}}``)
so the LLM path and langmem's tools read them as their own. Keys are
deterministic: a fact with a *slot* (name, home, taste, "my X is …") has one
key per namespace and slot, so a newer value updates it ("I moved to Berlin"
replaces "User lives in Paris", "I hate tea" replaces "User likes tea."); any
other fact's key is a hash of its normalised text, so saying it again stores
nothing new; with a semantic index, saying it in other words stores nothing new
either (:mod:`.dedup`). Questions, and statements shorter or
vaguer than the patterns above, are ignored: it misses facts rather than
inventing them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Fact", "extract_facts", "fact_key", "memory_value", "profile_key"]

_KEY_NAMESPACE = uuid.UUID("0b7e4f5a-2c1d-4e8f-9a6b-3d5c7e9f1a2b")

_CONTRACTIONS = {
    r"\bI'm\b": "I am",
    r"\bi'm\b": "I am",
    r"\bIm\b": "I am",
    r"\bI've\b": "I have",
    r"\bdon't\b": "do not",
    r"\bdont\b": "do not",
    r"\bcan't\b": "cannot",
    r"\bcan not\b": "cannot",
}

# One-word "I am X" states that describe the moment, not the person.
_TRANSIENT = {
    "back",
    "busy",
    "done",
    "fine",
    "glad",
    "good",
    "great",
    "happy",
    "here",
    "hungry",
    "in",
    "just",
    "late",
    "new",
    "not",
    "okay",
    "ok",
    "ready",
    "sad",
    "sorry",
    "sure",
    "thinking",
    "tired",
    "trying",
    "wondering",
    "going",
    "still",
    "also",
    "so",
    "very",
    "really",
    "well",
    "excited",
    "afraid",
    "confused",
    "curious",
    "bored",
    "home",
    "out",
    "off",
    "on",
    "there",
}

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_CLAUSE_SPLIT = re.compile(r"[;]+|,?\s+(?:and|but|so)\s+(?=(?:I|my|My)\b)|,\s+(?=(?:I|my|My)\b)")
_TRAILING = re.compile(r"[\s,:;.!]+$")
_LEADING_FILLER = re.compile(r"^(?:oh|well|hi|hey|hello|also|btw|actually|and|but|so)[,!\s]+", re.I)
# Time phrases say when, not what: "I moved to Berlin last year" -> "User lives in Berlin."
_WHEN = re.compile(
    r"\s+(?:last|this|next) (?:year|month|week|summer|winter|spring|fall)$"
    r"|\s+(?:recently|now|nowadays|these days|at the moment|currently|anymore|any more)$",
    re.I,
)
_OBJ = r"(?P<obj>[^?]{1,120}?)"

# (kind, slot or None, pattern, template); the first matching pattern wins.
_RULES: list[tuple[str, str | None, re.Pattern[str], str]] = [
    (kind, slot, re.compile(pattern, re.I), template)
    for kind, slot, pattern, template in [
        (
            "name",
            "name",
            rf"^(?:my name is|I am called|call me|my name's)\s+{_OBJ}$",
            "User's name is {obj}.",
        ),
        (
            "home",
            "home",
            rf"^I (?:live|reside|am living|am based|moved|have moved|relocated)"
            rf"\s+(?:in|to|at)\s+{_OBJ}$",
            "User lives in {obj}.",
        ),
        (
            "origin",
            "origin",
            rf"^I (?:am|come) (?:originally )?from\s+{_OBJ}$",
            "User is from {obj}.",
        ),
        (
            "work",
            "work",
            rf"^I (?:work|am working)\s+(?P<prep>at|for|in|as)\s+{_OBJ}$",
            "User works {prep} {obj}.",
        ),
        (
            "work",
            "work",
            rf"^my (?:job|occupation|profession) is\s+{_OBJ}$",
            "User's job is {obj}.",
        ),
        (
            "age",
            "age",
            r"^I am (?P<obj>\d{1,3})(?: years old| yrs old| y/?o)?$",
            "User is {obj} years old.",
        ),
        (
            "dislike",
            None,
            rf"^I (?:really |truly )?(?:dislike|hate|detest|do not like|do not enjoy"
            rf"|cannot stand|am not a fan of)\s+{_OBJ}$",
            "User dislikes {obj}.",
        ),
        (
            "preference",
            None,
            rf"^I (?:really |truly |absolutely )?(?:like|love|enjoy|adore)\s+{_OBJ}$",
            "User likes {obj}.",
        ),
        ("preference", None, rf"^I (?:really |strongly )?prefer\s+{_OBJ}$", "User prefers {obj}."),
        (
            "preference",
            None,
            rf"^I am (?:a (?:big |huge )?fan of|into|passionate about)\s+{_OBJ}$",
            "User likes {obj}.",
        ),
        ("identity", None, rf"^I am (?P<art>an?)\s+{_OBJ}$", "User is {art} {obj}."),
        (
            "attribute",
            "attr",
            r"^my (?P<attr>[a-z][a-z ]{1,40}?) (?:is|are)\s+(?P<obj>[^?]{1,120}?)$",
            "User's {attr} is {obj}.",
        ),
        ("identity", None, r"^I am (?P<obj>[A-Za-z][\w-]{2,30})$", "User is {obj}."),
    ]
]


@dataclass(frozen=True)
class Fact:
    """One fact the extractor found, ready to store."""

    kind: str
    text: str
    slot: str | None
    message_id: str
    obj: str = ""
    """What the fact is about ("Lisbon", "tea", "34"): the value a typed memory stores."""


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    for pattern, repl in _CONTRACTIONS.items():
        text = re.sub(pattern, repl, text)
    return text


def _clauses(text: str) -> Iterable[str]:
    for sentence in _SENTENCE.findall(_normalise(text)):
        if sentence.rstrip().endswith("?"):
            continue  # questions state nothing about the user
        for clause in _CLAUSE_SPLIT.split(sentence):
            clause = _LEADING_FILLER.sub("", _TRAILING.sub("", clause.strip()))
            if clause:
                yield clause


def _match(clause: str, message_id: str) -> Fact | None:
    for kind, slot, pattern, template in _RULES:
        m = pattern.match(clause)
        if not m:
            continue
        groups = {k: _WHEN.sub("", v.strip()) for k, v in m.groupdict().items() if v}
        if kind == "identity" and "art" not in groups and groups["obj"].lower() in _TRANSIENT:
            return None
        if slot == "attr":
            slot = "my " + groups["attr"].lower()
        elif kind in ("preference", "dislike"):
            # Liking and disliking the same thing contradict: one slot, the later one wins.
            slot = "taste:" + groups["obj"].lower()
        return Fact(kind, template.format(**groups), slot, message_id, groups["obj"])
    return None


def extract_facts(messages: Sequence[Mapping[str, Any]]) -> list[Fact]:
    """Every fact stated in the user turns of ``messages``; a later value of a slot wins."""
    by_key: dict[str, Fact] = {}
    for msg in messages:
        if msg["role"] != "user":
            continue
        for clause in _clauses(msg["content"]):
            fact = _match(clause, msg["id"])
            if fact is not None:
                ident = f"slot:{fact.slot}" if fact.slot else f"text:{fact.text.lower()}"
                by_key.pop(ident, None)  # re-insert so the order follows the conversation
                by_key[ident] = fact
    return list(by_key.values())


def fact_key(namespace: Sequence[str], fact: Fact) -> str:
    """The store key of a fact: one per slot, or one per distinct text."""
    ident = f"slot:{fact.slot}" if fact.slot else f"text:{fact.text.lower()}"
    return uuid.uuid5(_KEY_NAMESPACE, "\x1f".join([*namespace, ident])).hex


def profile_key(namespace: Sequence[str], name: str) -> str:
    """The store key of the one profile document of memory type ``name`` in ``namespace``."""
    return uuid.uuid5(_KEY_NAMESPACE, "\x1f".join([*namespace, "profile:" + name])).hex


def memory_value(fact: Fact) -> dict[str, object]:
    """The stored value, in langmem's memory format."""
    return {"kind": "Memory", "content": {"content": fact.text}}
