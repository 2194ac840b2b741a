"""The single-valued attribute a stored memory states, read back through the extractor's rules.

Consolidation retires a memory that a newer one contradicts: two memories about the
same single-valued attribute of the user (name, home, age, employer, job, car, study,
relationship, a favourite, liking or disliking one thing, …) with different values.
Which attributes have one value is what the offline rules already know (a rule's
*slot*, :mod:`.rules`); they read first-person turns, and memories are written in
the third person ("User lives in Porto."). So :func:`memory_slot` turns a memory's
text back into the clause the user would have said ("I live in Porto") and asks
:func:`~.rules.match` for its slot: one list of phrasings for extraction and
consolidation alike, including the model's memories when they follow the same
"User …" form.

It answers None rather than guess: a text that is not about "User", that states more
than one fact, or whose attribute is a person or an animal ("User's cat is called
Miso" and "User's cat is a tabby" are two facts about one cat, not two values of one
attribute) has no slot, so it is never retired as contradicted.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# The rules' own test of "my <attr>" naming a person or an animal; read, not copied, so the
# two cannot drift apart.
from graphs.memory_manager.offline.rules import _BEINGS, Match, match
from graphs.memory_manager.offline.text import clauses

__all__ = ["Slot", "first_person", "memory_slot"]

_SUBJECT = re.compile(r"^(?:the )?user(?P<poss>'s|’s)?\s+", re.I)
# Verbs the templates write in the third person and what the user said.
_AUXILIARY = {
    "is": "am",
    "has": "have",
    "does": "do",
    "doesn't": "do not",
    "isn't": "am not",
    "hasn't": "have not",
}
# Words a template may put between "User" and the verb: "User never eats pork".
_ADVERBS = frozenset({
    "usually", "always", "often", "normally", "regularly", "generally", "typically", "never",
    "rarely", "seldom", "sometimes", "occasionally", "mostly", "mainly", "only", "frequently",
    "still", "also", "now", "no", "longer", "just", "recently",
})  # fmt: skip
_THEIR = {"their": "my", "theirs": "mine", "themselves": "myself", "them": "me"}
_THEIR_RE = re.compile(r"\b(?:their|theirs|themselves|them)\b")


class Slot(NamedTuple):
    """The attribute a memory states, and its value as the rules write it."""

    name: str
    """The attribute: "home", "name", "my favourite colour", "taste:tea", …"""
    said: str
    """The rules' own text of the fact: "User likes tea." for "User loves tea!" too, so two
    memories that say one value in other words have equal ``said``."""


def _mine(text: str) -> str:
    """The user's pronouns back as the speaker's: "their thirties" → "my thirties"."""
    return _THEIR_RE.sub(lambda m: _THEIR[m.group(0)], text)


def _base_forms(verb: str) -> list[str]:
    """What the user may have said for a third-person verb, most likely first.

    "studies" → study; "teaches" → teach, teache; "lives" → liv, live. The rules pick
    the right one: a clause with a wrong form matches nothing.
    """
    low = verb.lower()
    if low in _AUXILIARY:
        return [_AUXILIARY[low]]
    forms = []
    if low.endswith("ies"):
        forms.append(verb[:-3] + "y")
    if low.endswith("es"):
        forms.append(verb[:-2])
    if low.endswith("s") and not low.endswith("ss"):
        forms.append(verb[:-1])
    return [*forms, verb]  # "grew", "was": the same in the first person


def first_person(text: str) -> list[str]:
    """The first-person clauses a third-person memory text may have come from, likeliest first.

    "User lives in Porto." → ["I liv in Porto", "I live in Porto"]; "User's name is
    Ana." → ["my name is Ana"]; a text not about "User" → [].
    """
    text = text.strip()
    subject = _SUBJECT.match(text)
    if subject is None:
        return []
    rest = _mine(text[subject.end() :].rstrip(" .!"))
    if subject.group("poss"):
        return [f"my {rest}"] if rest else []
    words = rest.split(" ")
    lead = 0
    while lead < len(words) - 1 and words[lead].lower() in _ADVERBS:
        lead += 1
    verb, before, after = words[lead], words[:lead], words[lead + 1 :]
    return [" ".join(["I", *before, form, *after]) for form in _base_forms(verb)]


def _facts(said: str) -> list[Match]:
    return [m for m in (match(c) for c in clauses(said + ".")) if m is not None]


_JOINS = re.compile(r",? (?:and|but) |[,;] ")


def _more_after(said: str) -> bool:
    """Whether a later part of the clause is a fact of its own: "… and works at a bakery".

    The rules take "I live in Porto and works at a bakery" as one home (the user would
    have said "and I work"), so each part after a join is read as "User <part>" too.
    """
    parts = _JOINS.split(said)[1:]
    return any(_facts(c) for part in parts for c in first_person(f"User {part}"))


def memory_slot(text: str) -> Slot | None:
    """The single-valued attribute ``text`` states, and its value.

    None when it states none, or more than one fact.
    """
    for said in first_person(text):
        found = _facts(said)
        if not found:
            continue  # another form of the verb may match
        if len(found) > 1 or found[0].slot is None or _more_after(said):
            return None
        slot = found[0].slot
        if slot.startswith("my ") and _BEINGS.search(slot[3:]):
            return None  # "my cat", "my sister": facts about someone, not the user's attribute
        return Slot(slot, found[0].text)
    return None
