"""Text handling for the offline extractor: from a user turn to clauses the rules can match.

A turn is normalised (curly quotes, contractions, a lower-case "i", "my wife and
I" → "we"), cut into sentences and then into clauses ("I live in Oslo and I
love skiing" is two), and each clause is cleaned of fillers ("btw", "oh and"),
of requests to remember ("please note that …") and of time words that do not
change the fact ("now", "these days"). What cannot state a lasting fact is
dropped here, before any rule sees it: questions, requests to the assistant,
hedges and conditionals ("maybe", "I think", "if I"), and anything tied to the
moment ("today", "right now", "this morning").

It also holds the small grammar the templates need: the third person of a verb
("I teach" → "teaches") and of pronouns ("my kids" → "their kids").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["EPISODIC", "clauses", "strip_when", "third_person", "third_person_verb"]

_CONTRACTIONS = [
    (r"\b(?:I'm|Im|I am)\b", "I am"),
    (r"\bI've\b|\bIve\b", "I have"),
    (r"\bI'd\b", "I would"),
    (r"\bI'll\b", "I will"),
    (r"\bwe're\b", "we are"),
    (r"\bwe've\b", "we have"),
    (r"\b(?:don't|dont)\b", "do not"),
    (r"\b(?:doesn't|doesnt)\b", "does not"),
    (r"\b(?:can't|cant|can not)\b", "cannot"),
    (r"\b(?:won't|wont)\b", "will not"),
    (r"\b(?:isn't|isnt)\b", "is not"),
    (r"\b(?:haven't|havent)\b", "have not"),
    (r"\b(?:gonna)\b", "going to"),
    (r"\b(?:wanna)\b", "want to"),
    (r"\bmy name's\b", "my name is"),
    (r"\bthe name's\b", "the name is"),
    # A wish about how to be addressed is a name, not a hedge: "I'd rather you called me Dom".
    (
        r"\bI(?: would|'d) (?:rather|prefer|like)(?: it)?(?: if)? (?:you|people|everyone)"
        r"(?: to| would)? (?:call(?:ed)?|address(?:ed)?|refer(?:red)? to) me\b",
        "call me",
    ),
    (
        r"\bI(?: would|'d) (?:rather|prefer|like) to be (?:called|known as|addressed as)"
        r"(?= (?-i:[A-Z]))",
        "I prefer to be called",
    ),
    (r"\bI(?: would|'d) (?:rather|prefer to|like to) go by(?= (?-i:[A-Z]))", "I go by"),
    # A move said with "in": "We've moved again, we're in Vilnius now", "I'm in Austin now, I
    # moved for work".
    (
        r"\b(I|we) (?:have )?(?:just |recently )?moved(?: again| house)?[,;]\s+(?:I am|we are|"
        r"I'm|we're) (?:now )?in\b",
        r"\1 moved to",
    ),
    (
        r"^(?:I am|I'm|we are|we're) (?:now )?in (?=(?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*)?"
        r"(?: now)?,? (?:since )?(?:I|we) (?:have )?(?:just |recently )?moved\b)",
        "I live in ",
    ),
    # A new name said as "it": "I've changed my name; it's Achieng now", "It's Yosef now, I
    # updated my name", "My name has changed again, it's Tilda".
    (
        r"\b(I (?:have )?(?:changed|updated) my name|my name (?:has )?(?:changed|been changed|"
        r"been updated)(?: again)?)[,;:.]?\s+it(?:'s| is)\b",
        r"\1 to",
    ),
    (
        r"^it(?:'s| is) (?=(?-i:[A-Z])[\w'-]*(?: now)?,? (?:and )?I (?:have )?(?:changed|updated) "
        r"my name)",
        "my name is ",
    ),
    # "I" typed in lower case; a lone "i" before a word is always the pronoun.
    (r"\bi(?=\s|'|’)", "I"),
]
_CONTRACTION_RES = [(re.compile(p, re.I), r) for p, r in _CONTRACTIONS]
# "my wife and I live in Oslo" says where the user lives: the household is "we".
_HOUSEHOLD = re.compile(
    r"\b(?:my|My) (?:[a-z]+ ){0,2}(?:wife|husband|partner|family|boyfriend|girlfriend|fianc[eé]e?|"
    r"kids|children|parents|spouse|roommate|flatmate)( and I)\b"
)
_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF]|(?<!\w)(?::-?[)(DPp]|;-?\)|<3|xD)(?!\w)")
# A sentence ends at . ! ? or a line break, but not after "St." / "Dr." / an initial.
_SENTENCE_END = re.compile(
    r"(?<!\bSt)(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bJr)(?<!\bSr)(?<!\bMrs)(?<!\bvs)(?<!\be\.g)"
    r"(?<!\bi\.e)(?<!\b[A-Z])([.!?]+)(?=\s|$)|\n+"
)
_SUBJECT = (
    r"(?:(?:honestly|actually|also|now|really|then|yes|so|anyway|btw),? )?"
    r"(?:I|my|My|we|We|everyone|people|please|Please|call me)\b"
)
_CLAUSE_SPLIT = re.compile(
    r"\s*;\s*|:\s+|\s+[-–—]+\s+"
    r"|,?\s+(?:and|but|so|because|since|although|though|while|plus|whereas|and also|and now)"
    rf"\s+(?={_SUBJECT})"
    rf"|,\s+(?={_SUBJECT})"
    # "Emerald's out, turquoise is my favourite colour now"
    r"|,\s+(?=[\w' -]{1,40} (?:is|are) (?:now )?my\b)"
    # "I'm vegan, what can I cook?": the question is a clause of its own, dropped below.
    r"|,\s+(?=(?:what|how|where|when|which|who|why|can you|could you|do you|is there|any)\b)"
)
_LEADING_FILLER = re.compile(
    r"^(?:oh|well|hi|hey|hello|hiya|also|btw|by the way|actually|and|but|so|anyway|anyways|"
    r"ok|okay|yeah|yes|yep|no|nope|um|uh|lol|haha|fyi|just so you know|for the record|"
    r"for context|for what it is worth|honestly|basically|fun fact|in fact|plus|ps|p\.s\.|"
    r"(?:please )?(?:remember|note|keep in mind|bear in mind)(?: that)?|"
    r"oh and|and yes|as for me|as I said|like I said|you know what|these days|nowadays|"
    r"currently|at the moment|for now|from now on|now|still)"
    r"(?:[,:!\s-]+|$)",
    re.I,
)
# A greeting followed by "I am <Name>" is an introduction: "Hi, I'm Sofia".
_INTRO = re.compile(r"^(?:hi|hey|hello|hiya)(?: there| all| everyone)?[,!\s-]+I am (?=[A-Z][a-z])")
_QUESTION = re.compile(
    r"^(?:what|where|when|why|how|who|whom|whose|which|do you|does|did|are you|is it|is there|"
    r"am I|can you|could you|would you|will you|should I|shall|may I|can I|could I|have you)\b",
    re.I,
)
# An imperative to the assistant: a request, not a fact about the user.
_REQUEST = re.compile(
    r"^(?:please(?! (?:start |begin )?(?:call|calling|address|refer to|referring to) me)|"
    r"remind|tell|show|give|help|find|book|set|add|send|write|draft|"
    r"make|create|schedule|summari[sz]e|translate|explain|list|recommend|suggest|check|"
    r"look up|search|order|open|email|text|cancel|update|delete|let me know|let us|"
    r"let's|lets|try|plan|compare|calculate|convert|play|call(?! me)|can we|could we)\b",
    re.I,
)
# Case-sensitive where a word is also a name or a month: "Will", "May".
_HEDGE = re.compile(
    r"\b(?:will|may)\b|\b(?i:maybe|perhaps|probably|possibly|hopefully|might|could|would|should|shall|"
    r"going to|if|unless|whether|think|thought|guess|suppose|assume|hope|wish|wonder|"
    r"not sure|unsure|kind of|sort of|kinda|sorta|someday|some day|one day|eventually|"
    r"considering|used to|want|wanted|need|needed|when I was|as a kid|as a child|pretend|"
    r"imagine|supposed to)\b",
)
_BARE_HEDGE = re.compile(
    r"^(?:I (?:think|guess|suppose|believe|reckon)(?: so)?|maybe|probably|perhaps|possibly|"
    r"I am not (?:sure|certain)|not sure|or something|or so|I think anyway)$",
    re.I,
)
EPISODIC = re.compile(
    r"\b(?:today|tonight|yesterday|tomorrow|this (?:morning|afternoon|evening|week|weekend)|"
    r"last night|right now|just now|earlier|later|at the minute|a (?:minute|moment|second|while) "
    r"ago|(?:an|\d+|a few|few|couple of) (?:minutes|hours|hour) ago|on my way|on the way|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?!s|"
    r" (?:mornings|afternoons|evenings|nights))|"
    r"next (?:week|month|year|time|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.I,
)
_AS_A = re.compile(r"^As (?P<what>an? [\w -]{2,40}?)(?:,? (?P<rest>I .+))?$")
_BORN = re.compile(r"^(?:born and raised|born and bred|born|raised|grew up) (?=in|near|on)\b", re.I)
# Time words that do not change a lasting fact: "I live in Rome now" says where the user lives.
_NOW = re.compile(
    r"(?:,?\s+(?:now|nowadays|these days|at the moment|currently|anymore|any more|"
    r"at present|for now|still|full stop|for good|from now on|again))+$",
    re.I,
)
_TRAILING = re.compile(
    r"(?:[\s,:;.!]+|\s*\b(?:lol|haha|hehe|btw|tbh|fyi|too|as well|either|anyway|anyways|"
    r"by the way|if that matters|if that helps|in case (?:that|it) (?:matters|helps)|"
    r"so yeah|you know|though|thanks|thank you)\b)+$",
    re.I,
)
# Say when, not what; stripped from a rule's captures ("I moved to Berlin last year").
_WHEN = re.compile(
    r"(?:\s+(?:last|this|next|in the|earlier this) (?:year|month|weekend|week|summer|winter|spring|"
    r"fall|autumn)|\s+(?:recently|lately|a (?:few|couple of) (?:years|months|weeks) ago|"
    r"\w+ (?:years|months|weeks) ago|in \d{4}|back in \d{4}|since \d{4}|"
    r"last (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"since (?:the )?(?:spring|summer|autumn|fall|winter|january|february|march|april|may|june|"
    r"july|august|september|october|november|december)|in (?:january|february|"
    r"march|april|may|june|july|august|september|october|november|december)(?: \d{4})?|"
    r"for (?:about |almost |nearly |over |around |more than )?(?:\d+|a few|many|several|"
    r"a couple of|two|three|four|five|six|seven|eight|nine|ten|twenty) "
    r"(?:years|months|decades)(?: now)?))+$",
    re.I,
)
# An aside after the fact: "allergic to cats, so no pets" → "allergic to cats".
_SUFFIX = re.compile(
    r",\s*(?:so|but|which|because|though|although|since|and then|and so|and that|that is|it is|"
    r"that's|it's)(?!\w).*$|\s+(?:so|because|which|since)\s+.*$",
    re.I,
)


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = _EMOJI.sub(" ", text.replace("\u201d", '"'))
    for pattern, repl in _CONTRACTION_RES:
        text = pattern.sub(repl, text)
    return _HOUSEHOLD.sub(lambda m: "we", text)


def _sentences(text: str) -> Iterator[tuple[str, str]]:
    """``(sentence, its closing punctuation)`` pairs."""
    parts = _SENTENCE_END.split(text)
    for i in range(0, len(parts), 2):
        end = parts[i + 1] if i + 1 < len(parts) else ""
        if parts[i] and parts[i].strip():
            yield parts[i].strip(), end or ""


# An age stays true after the day it was said: "I turned 30 yesterday!" says the user is 30.
_AGE = re.compile(
    r"^I (?:am|(?:just |recently )?turned) \d{1,3}(?: years old)?(?: as of)?(?: [a-z]+)?$"
)
_AGE_ON = re.compile(r"\s+(?:as of )?(?:today|yesterday|this week|on \w+day)$", re.I)
# Adverbs between the subject and the verb that do not change the fact: "I currently live in …".
_SUBJECT_ADVERB = re.compile(
    r"^(I|we) (?:currently|now|still|also|actually|honestly|even|already) "
    r"|^(I am|we are) (?:currently|now|still|actually) "
)


def _clean(clause: str) -> str:
    clause = _INTRO.sub("my name is ", clause.strip(" \t\"'()[]"))
    while True:
        stripped = _LEADING_FILLER.sub("", clause, count=1).strip()
        if stripped == clause:
            break
        clause = stripped
    for pattern in (_TRAILING, _NOW, _TRAILING):
        clause = pattern.sub("", clause)
    clause = _SUBJECT_ADVERB.sub(lambda m: (m[1] or m[2]) + " ", clause)
    return clause.strip()


def _refused(clause: str) -> bool:
    return any(
        (_QUESTION.match(clause), _REQUEST.match(clause), _HEDGE.search(clause),
         EPISODIC.search(clause))
    )  # fmt: skip


def _parts(sentence: str, end: str) -> list[str]:
    """The sentence's clauses, without the question a statement may end in."""
    # Pairs of (raw, cleaned): "right now" is checked raw, before cleaning trims "now".
    parts = [(p, c) for p in _CLAUSE_SPLIT.split(sentence) if (c := _clean(p))]
    if not parts or _QUESTION.match(parts[0][1]):
        return []  # a question states nothing about the user
    if any(_BARE_HEDGE.match(c) for _, c in parts):
        return []  # "I'm vegetarian, I think": the hedge covers the whole sentence
    # "I'm allergic to nuts, what can I cook?": the statement stands, the question does not.
    kept = parts[:-1] if "?" in end else parts
    return [_AGE_ON.sub("", c) if _AGE.match(c) else c for p, c in kept
            if not EPISODIC.search(p) or _AGE.match(c)]  # fmt: skip


def _expand(clause: str) -> list[str]:
    """Elliptical openings as full clauses: "As a nurse, I …", "Born and raised in …"."""
    if m := _AS_A.match(clause):
        return [f"I am {m['what']}", m["rest"] or ""]
    subject = "I " if clause.lower().startswith("grew") else "I was "
    return [_BORN.sub(lambda m: subject + m[0].lower(), clause)]


def clauses(text: str) -> Iterator[str]:
    """The clauses of a user turn that may state a lasting fact, cleaned for the rules."""
    for sentence, end in _sentences(_normalise(text)):
        for part in _parts(sentence, end):
            for clause in _expand(part):
                if clause and not _refused(clause):
                    yield clause


def strip_when(value: str, *, dates: bool = True) -> str:
    """``value`` without a trailing aside ("…, so keep that in mind") and closing date."""
    value = _SUFFIX.sub("", value.strip())
    return _TRAILING.sub("", _WHEN.sub("", value) if dates else value).strip()


_PRONOUNS = {
    "my": "their",
    "mine": "theirs",
    "myself": "themselves",
    "me": "them",
    "our": "their",
    "ours": "theirs",
    "ourselves": "themselves",
    "us": "them",
    "we": "they",
    "I": "they",
}
_PRONOUN = re.compile(r"\b(?:my|mine|myself|me|our|ours|ourselves|us|we|I)\b")
_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is", "am": "is"}


def third_person(text: str) -> str:
    """``text`` with the speaker's pronouns as the user's: "my kids" → "their kids"."""
    text = re.sub(r"\bI am\b", "they are", text)
    return _PRONOUN.sub(lambda m: _PRONOUNS[m.group(0)], text)


def third_person_verb(verb: str) -> str:
    """The third person singular of a present-tense verb: teach → teaches, study → studies."""
    head, _, tail = verb.partition(" ")
    low = head.lower()
    if low in _IRREGULAR:
        head = _IRREGULAR[low]
    elif re.search(r"(?:s|sh|ch|x|z|o)$", low):
        head += "es"
    elif re.search(r"[^aeiou]y$", low):
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {tail}" if tail else head
