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

__all__ = [
    "AGE_WORDS",
    "EPISODIC",
    "SCHOOL",
    "clauses",
    "strip_when",
    "third_person",
    "third_person_verb",
]

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# An age in words, from five to ninety-nine: "I'm eighteen now".
AGE_WORDS = (
    "(?:"
    + "|".join([*(f"{t}(?:[- ](?:{'|'.join(_UNITS)}))?" for t in _TENS), *_TEENS, *_UNITS[4:]])
    + ")"
)

_CONTRACTIONS = [
    (r"\b(?:I'm|Im|I am)\b", "I am"),
    (r"\bI've\b|\bIve\b", "I have"),
    (r"\bI'd\b", "I would"),
    (r"\bI'll\b", "I will"),
    (r"\bwe're\b", "we are"),
    (r"\bit's\b", "it is"),
    # "its my birthday": before "my", "its" is never the possessive.
    (r"\bits (?=my\b)", "it is "),
    (r"\bthey're\b", "they are"),
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
    # "Name's Jay now": the dropped "my" of a chatty introduction.
    (r"(^|[.!,;:]\s+)name's\b", r"\1my name is"),
    # "Coffee's my favourite drink now", "Lisbon's where I live": "is", not a possessive.
    (
        r"\b([A-Za-z][\w-]*)'s (?=(?:now |also |actually |definitely |officially )?my\b|"
        r"(?:where|what) I\b)",
        r"\1 is ",
    ),
    # "My car's a Mazda now"; not "my brother's car", which is followed by a noun.
    (r"\b(my [a-z]+)'s (?=(?:a|an|the|now|actually|still|no longer|not|in|at)\b)", r"\1 is "),
    # A wish about how to be addressed is a name, not a hedge: "I'd rather you called me Dom".
    (
        r"\bI(?: would|'d) (?:rather|prefer|like)(?: it)?(?: if)? (?:you|people|everyone)"
        r"(?: to| would)? (?:call(?:ed)?|address(?:ed)?|refer(?:red)? to) me\b",
        "call me",
    ),
    (
        r"\bI(?: would|'d)? (?:rather|prefer|like|want)(?: to)? be (?:called|known as|addressed as)"
        r"(?= (?-i:[A-Z]))",
        "I prefer to be called",
    ),
    # "I want you to call me Jay", "I'd like people to start calling me Jay".
    (
        r"\bI(?: would|'d)? (?:like|want)(?: you| people| everyone)? to (?:start )?"
        r"(?:call|calling) me\b",
        "call me",
    ),
    # Asked as a question, it is still a name: "Could you call me Jay from now on?".
    (
        r"\b(?:could|can|would|will) you(?: please)? ((?:start |begin )?(?:call(?:ing)?|"
        r"address(?:ing)?|refer(?:ring)? to)) me\b([^?]*)\?",
        r"please \1 me\2.",
    ),
    # "Actually, I'd prefer Natasha": a lone given name after "prefer" is how to be called.
    (
        r"(?:^|(?<=[,.!;:] ))I(?: would|'d) (?:much )?(?:rather|prefer)(?: you use)? "
        r"(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
        r"April|May|June|July|August|September|October|November|December)\b)"
        r"(?=(?-i:[A-Z])[a-z]+(?:,? (?:instead|please|now|actually|from now on))?[.!]*$)",
        "I go by ",
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
        r"been updated)(?: again)?)[,;:.]?\s+it(?:'s| is|s)\b",
        r"\1 to",
    ),
    (
        r"^it(?:'s| is|s) (?=(?-i:[A-Z])[\w'-]*(?: now)?,? (?:and )?I (?:have )?"
        r"(?:changed|updated) my name)",
        "my name is ",
    ),
    # "Teal isn't my favourite colour anymore, mustard is": the new value, in the usual order.
    (
        r"(?:^|(?<=[.!,;:] ))[\w' -]{1,40}? is (?:not|no longer) my (?P<attr>(?:favou?rite|fave) "
        r"[\w -]{1,30}?)(?: any ?more| now)?[,;]\s*(?:but |now )*(?P<new>[\w' -]{1,40}?) is"
        r"(?: now)?(?=[.!]|$)",
        r"\g<new> is my \g<attr>",
    ),
    # "I've got a new favourite colour: mustard", "I have a new favourite band, Wet Leg".
    (
        r"\bI (?:have )?(?:got |found )?a new (?P<attr>(?:favou?rite|fave) [\w -]{1,30}?)"
        r"\s*(?::|,|\s-+|\s–|\s—|\snow,?)\s*(?:and )?(?:it is )?",
        r"my \g<attr> is ",
    ),
    # "Please use Martin, my full name", "Use my full name, Martin": a name said to be one.
    (
        r"\b(?:please |just |you can )*use (?=(?-i:[A-Z])[a-z]+(?: (?-i:[A-Z])[a-z]+)?,? "
        r"(?:it is |that is |which is )?my (?:full |real |actual |proper |legal |first |given )?"
        r"name\b)",
        "my name is ",
    ),
    (
        r"\b(?:please |just |you can )*use my (?:full |real |actual |proper |legal |first |given )?"
        r"name(?:,|:| -)? (?=(?-i:[A-Z])[a-z]+\b)",
        "my name is ",
    ),
    # A heading for the new value: "New favourite book: The Remains of the Day", "fave colour
    # update: it's navy blue now", "My favourite film - Heat".
    (
        r"(?:^|(?<=[.!?,] ))(?:my )?(?:new |updated |current )?(?P<attr>(?:favou?rite|fave|fav) "
        r"[\w-]+(?: (?!(?:update|change|alert|now)\b)[\w-]+)?)(?: update| change| alert| now)?"
        r"\s*(?::|\s-+|\s–|\s—)\s*(?:it is |now )?(?=\w)",
        r"my \g<attr> is ",
    ),
    # "Spirited Away just dethroned it, that's my favourite film now": what took the place is
    # the new value ("replaced teal as my favourite colour" is a rule of its own).
    (
        r"(?:^|(?<=[.!?,;:] ))(?P<new>[\w'-]+(?: [\w'-]+){0,3}?) (?:just |has |have |finally |"
        r"officially |now )*(?:dethroned|overtook|overtaken|beat|beaten|knocked off|knocked out|"
        r"usurped|ousted|edged out|pipped|took over from|taken over from|displaced|toppled|"
        r"replaced|trumped) (?:it|that|them|[\w' -]{1,40}?)\s*(?:[-–—,;:]+|\.)\s*(?:so )?"
        r"(?:that|it|this|they) (?:is|are) (?:now |officially )?my (?P<attr>(?:new )?"
        r"(?:favou?rite|fave|fav) [\w-]+(?: [\w-]+)?)(?:,? now)?(?=[.!]|$)",
        r"\g<new> is my \g<attr>",
    ),
    # "My favourite colour has always been red": what it is, as long as it has been.
    (
        r"\b(my (?:favou?rite|fave|fav) [\w-]+(?: [\w-]+)?) (?:has|have) (?:always |long |"
        r"forever )?been\b",
        r"\1 is",
    ),
    # "I've been seeing someone - her name is Camille": the name, however it is joined on.
    (
        r"\b(dating|seeing) (someone|somebody|a (?:guy|girl|man|woman|boy))(?: new)?\s*"
        r"(?:,|[-–—:;]+|\.)\s*(?:(?:her|his|their) name is|(?:she|he|they) (?:is|are) called|"
        r"(?:she|he|they)'s called)\s+(?=(?-i:[A-Z]))",
        r"\1 \2 named ",
    ),
    # "Today was my first day at KPMG": a new employer, said by the day it started.
    (
        r"\b(?:today|yesterday|this (?:morning|week)|(?:on )?(?:monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)) (?:was|is|has been) my (?:very )?first (?:day|week|"
        r"shift)(?: of work| at work| on the job)? (?:at|with) ",
        "I started at ",
    ),
    # "It's my birthday!! Eighteen finally", "it's my 40th birthday": the age it makes.
    (
        rf"\bit is my (?:(?:\d{{1,3}}(?:st|nd|rd|th)|{AGE_WORDS}(?:th)?) )?birthday(?: today)?"
        rf"[\s!.,:;–—-]+(?:and )?(?:I am |I'm |I turned |I just turned |just turned |turned |"
        rf"I hit |officially )?(?P<age>\d{{1,3}}|{AGE_WORDS})\b(?! (?:days|minutes|hours|people|"
        rf"guests|friends|of))",
        r"I turned \g<age>",
    ),
    (r"\bit is my (\d{1,3})(?:st|nd|rd|th) birthday\b", r"I turned \1"),
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
# Past-tense verbs of a change that a chatty turn says without "I": "Just moved to Lisbon!",
# "Got a job at KPMG", "Turned 30 last week". Not "joined": "I joined Reddit" names no employer.
_CHANGE_VERB = (
    r"(?:moved|relocated|turned|got|started|switched|changed|became|bought|sold|transferred|"
    r"retired|retrained|graduated|had my|hit|left|quit|traded|upgraded|landed|accepted|"
    r"remarried|divorced|separated|now work|now live|am now|now drive|now study)\b"
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
    # "Stop calling me Jason, it's Jay now": the "it" is read against the turn (_resolve_it).
    # Not after a greeting: "Hey, it's Jay" is an introduction (_INTRO).
    r"|(?<![Hh]i)(?<![Hh]ey)(?<![Hh]ello)(?<![Hh]iya),\s+(?:but |and )?(?=(?:now )?(?:it|they) "
    r"(?:is|are)\b)"
    # "I got into climbing and it's now my favourite sport", "I'm dating Oscar and it's going
    # great": an "and it is" starts a clause of its own with or without its comma.
    r"|\s+(?:and|but) (?=(?:now )?(?:it|they) (?:is|are)\b)"
    # "I left Porto and moved to Lisbon": the second verb's subject is dropped (_elliptic).
    rf"|,?\s+and (?:then )?(?=(?:just |recently |have |also )?{_CHANGE_VERB})"
    # "Emerald's out, turquoise is my favourite colour now"
    r"|,\s+(?=[\w' -]{1,40} (?:is|are) (?:now )?my\b)"
    # "I'm a hygienist now, finally finished my course": "now" closes the value, the rest is an
    # aside. Not before "not": "It's Marta now, not Martha" is a correction (rules.replacement).
    r"|(?<=\bnow),\s+(?!not\b)"
    # "I'm vegan, what can I cook?": the question is a clause of its own, dropped below.
    r"|,\s+(?=(?:what|how|where|when|which|who|why|can you|could you|do you|is there|any)\b)"
)
_LEADING_FILLER = re.compile(
    r"^(?:oh|well|hi|hey|hello|hiya|also|btw|by the way|actually|and|but|so|anyway|anyways|"
    r"ok|okay|yeah|yes|yep|no|nope|um|uh|lol|haha|fyi|just so you know|for the record|"
    r"for context|for what it is worth|honestly|basically|fun fact|in fact|plus|ps|p\.s\.|"
    r"(?:please )?(?:remember|note|keep in mind|bear in mind)(?: that)?|"
    # "From now on please know my name is Daniel": told to be known, it is still the fact.
    r"please (?:know|be aware|be advised|take note|make a note)(?: that)?|"
    r"oh and|and yes|as for me|as I said|like I said|you know what|these days|nowadays|"
    r"currently|at the moment|for now|from now on|now|still|right now|"
    # Corrections and news say how the fact is told, not what it is.
    r"sorry|oops|whoops|correction|update|quick update|small update|small correction|news|"
    r"good news|big news|guess what|heads up|just a heads up|I meant(?: to say)?(?: that)?|"
    r"I mean|to be clear|to clarify|just to clarify|I would say(?: that)?|"
    r"I (?:have )?decided(?: that)?|(?:it )?turns out(?: that)?|I reali[sz]ed(?: that)?|"
    r"I should mention(?: that)?|I forgot to (?:mention|say)(?: that)?|let me correct myself)"
    r"(?:[,:!\s-]+|$)",
    re.I,
)
# A greeting followed by "I am <Name>" is an introduction: "Hi, I'm Sofia".
_INTRO = re.compile(
    r"^(?i:hi|hey|hello|hiya)(?: there| all| everyone)?[,!\s-]+(?:I am|it is|this is) "
    r"(?=[A-Z][a-z])"
)
# "Hi, Jay here", "Jay here!": a greeting that signs with a name.
_SIGNED = re.compile(r"^(?:(?i:hi|hey|hello|hiya)[,!\s-]+)?(?P<name>[A-Z][a-z]+) here$")
_QUESTION = re.compile(
    r"^(?:what|where|when|why|how|who|whom|whose|which|do you|does|did|are you|is it|is there|"
    r"am I|can you|could you|would you|will you|should I|shall|may I|can I|could I|have you)\b",
    re.I,
)
# An imperative to the assistant: a request, not a fact about the user.
_REQUEST = re.compile(
    r"^(?:please(?! (?:(?:start |begin )?(?:call|calling|address|refer to|referring to) me|"
    r"use the name))|"
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
    r"at present|for now|still|full stop|for good|from now on|again|right now|instead|"
    r"finally|at last|officially))+$",
    re.I,
)
_TRAILING = re.compile(
    r"(?:[\s,:;.!]+|\s*\b(?:lol|haha|hehe|btw|tbh|fyi|too|as well|either|anyway|anyways|"
    r"by the way|if that matters|if that helps|in case (?:that|it) (?:matters|helps)|"
    r"so yeah|you know|though|thanks|thank you|"
    # how much it is so, not what: "my favourite sport by a mile"
    r"by a mile|by far|hands down|no contest|of all time|for sure|without a doubt)\b)+$",
    re.I,
)
# Say when, not what; stripped from a rule's captures ("I moved to Berlin last year").
_WHEN = re.compile(
    r"(?:\s+(?:last|this|next|in the|earlier this) (?:year|month|weekend|week|summer|winter|spring|"
    r"fall|autumn|term|semester|quarter)|\s+(?:recently|lately|a (?:few|couple of) "
    r"(?:years|months|weeks) ago|"
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
    r"that's|it's)(?!\w).*$|\s+(?:so|because|which|since)\s+.*$"
    # "I live in Hoboken, the rent was too high": a new subject and its verb start an aside.
    r"|,\s*(?:the|a|an|his|her|their|its) (?:[\w'-]+ ){0,2}?(?:is|was|are|were|has|had|"
    r"seems?|seemed|looks?|looked|feels?|felt|threw|kept|got)\b.*$"
    # "I live in Lisbon, not Porto": what the value replaces is not part of it.
    r"|,\s*(?:and )?not\s+(?!only\b|just\b|too\b|very\b|so\b).*$"
    r"|,?\s+(?:rather than|instead of|as opposed to|in place of)\s+.*$"
    # "khachapuri after visiting Tbilisi": how it came to be, not part of the value.
    r"|\s+after (?:visiting|trying|tasting|reading|rereading|re-reading|watching|seeing|hearing|"
    r"discovering|a (?:trip|visit|reread|re-read)|my (?:trip|visit))\b.*$",
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
# A change said with when it happened stays true after that day: "I started a new job at KPMG
# this week", "We got married on Saturday". What is only true of the moment ("I'm tired today",
# "I have a meeting this afternoon") has no verb of change.
_CHANGE_EVENT = re.compile(
    r"^(?:(?:I|we) (?:have )?)?(?:just |recently |finally |officially )?"
    r"(?:moved|relocated|turned|got|started|switched|changed|became|bought|sold|transferred|"
    r"retired|retrained|graduated|had my|left|quit|traded|upgraded|landed|accepted|remarried|"
    r"divorced|separated|joined|hit)\b",
    re.I,
)


def _undated_change(clause: str) -> str:
    """A change without the day it happened: "I turned 42 today, yay" → "I turned 42, yay"."""
    if not (_CHANGE_EVENT.match(clause) and EPISODIC.search(clause)):
        return clause
    undated = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", EPISODIC.sub("", clause)))
    return undated.strip(" ,")


# Adverbs between the subject and the verb that do not change the fact: "I currently live in …".
_SUBJECT_ADVERB = re.compile(
    r"^(I|we) (?:currently|now|still|also|actually|honestly|even|already) "
    r"|^(I am|we are) (?:currently|now|still|actually|technically|officially|basically|finally) "
)


# "Favourite colour is mustard now": the "my" a quick turn leaves out.
_OWNERLESS_FAVOURITE = re.compile(
    r"^(?=(?:fave|fav|favou?rite) [\w-]+(?: [\w-]+)? (?:is|are|has|have|changed)\b)", re.I
)


# What led to the statement, before it: "after my trip to India my favourite food is …",
# "planning her party made me realise I like lilac most".
_LEADING_CAUSE = re.compile(
    r"^(?:(?:after|since|following|ever since|thanks to) (?:my|the|a|an|our|that|this|all|"
    r"visiting|trying|living|moving|reading|watching|seeing|tasting)\b[^,]{0,50}?(?:,\s*|\s+)"
    r"(?=(?:my|I)\b)|"
    r"[^,]{0,60}?(?:, )?[^,]{0,60}?\b(?:made me|makes me|got me to|helped me|led me to) "
    r"(?:realise|realize|see|notice|discover)(?: that)?\s+(?=I\b)|"
    r"I (?:have )?(?:come to realise|come to realize|found out|figured out|discovered|noticed)"
    r"(?: that)?\s+(?=(?:my|I)\b))",
    re.I,
)


def _clean(clause: str) -> str:
    clause = clause.strip(" \t\"'()[]")
    if _INTRO.match(clause):  # "Hi, it's Desmond here": the name, without "here"
        clause = re.sub(r" here$", "", _INTRO.sub("my name is ", clause))
    clause = _SIGNED.sub(lambda m: f"my name is {m['name']}", clause)
    while True:
        stripped = _LEADING_FILLER.sub("", clause, count=1).strip()
        stripped = _LEADING_CAUSE.sub("", stripped, count=1)
        if stripped == clause:
            break
        clause = stripped
    for pattern in (_TRAILING, _NOW, _TRAILING):
        clause = pattern.sub("", clause)
    clause = _SUBJECT_ADVERB.sub(lambda m: (m[1] or m[2]) + " ", clause)
    return _OWNERLESS_FAVOURITE.sub("my ", clause).strip()


def _refused(clause: str) -> bool:
    return any(
        (_QUESTION.match(clause), _REQUEST.match(clause), _HEDGE.search(clause),
         EPISODIC.search(clause))
    )  # fmt: skip


# A favourite "right now" is the current favourite, not a passing moment.
_FAVOURITE = re.compile(r"\b(?:favou?rite|fave)\b", re.I)
_RIGHT_NOW = re.compile(r",?\s*\bright now\b,?", re.I)


def _timeless(part: str) -> str:
    return _RIGHT_NOW.sub("", part) if _FAVOURITE.search(part) else part


def _parts(sentence: str, end: str) -> list[tuple[str, bool]]:
    """The sentence's clauses, cleaned, each with whether it may state a fact.

    The ones that may not (a question, a hedge, what happens today) still give the turn a
    topic for a later "it is …" (see :func:`_resolve_it`).
    """
    # Pairs of (raw, cleaned): "right now" is checked raw, before cleaning trims "now".
    parts = [(t, c) for p in _CLAUSE_SPLIT.split(sentence) if (c := _clean(t := _timeless(p)))]
    if not parts or _QUESTION.match(parts[0][1]) or any(_BARE_HEDGE.match(c) for _, c in parts):
        # A question states nothing about the user; a hedge ("I'm vegetarian, I think")
        # covers the whole sentence.
        return [(c, False) for _, c in parts]
    # "I'm allergic to nuts, what can I cook?": the statement stands, the question does not.
    last = len(parts) - 1 if "?" in end else len(parts)
    return [
        (_AGE_ON.sub("", c) if _AGE.match(c) else c,
         i < last and (not EPISODIC.search(p) or bool(_AGE.match(c) or _CHANGE_EVENT.match(c))))
        for i, (p, c) in enumerate(parts)
    ]  # fmt: skip


# A verb of change said without its subject: "Just moved to Lisbon!", "Got a job at KPMG".
_ELLIPTIC = re.compile(
    rf"^(?:just |recently |finally |also )?(?:{_CHANGE_VERB}|(?:work|live) (?:at|for|as|in)\b)",
    re.I,
)


def _expand(clause: str) -> list[str]:
    """Elliptical openings as full clauses: "As a nurse, I …", "Born and raised in …"."""
    if m := _AS_A.match(clause):
        return [f"I am {m['what']}", m["rest"] or ""]
    if _ELLIPTIC.match(clause):
        return [_clean("I " + clause)]
    subject = "I " if clause.lower().startswith("grew") else "I was "
    return [_BORN.sub(lambda m: subject + m[0].lower(), clause)]


# What a later "it is …" in the turn is about: the name ("Stop calling me Jason, it's Jay
# now") or "my <attribute>" ("My favourite colour used to be teal, but now it's mustard").
_NAME_TOPIC = re.compile(
    r"\b(?:my (?:\w+ )?name|call(?:ing)? me|go(?:ing)? by|changed my name)\b", re.I
)
_ATTR_TOPIC = re.compile(
    r"\bmy (?P<attr>(?:[\w-]+ ){0,3}?[\w-]+) (?:is|was|are|has|have|used to|changed)\b"
    r"|\bmy (?P<fav>(?:favou?rite|fave) [\w -]+?)$",
    re.I,
)
_IT_IS = re.compile(
    r"^(?:but |and |so )?(?:now )?(?:it|they) (?:is|are) (?:now |actually |officially )?"
    r"(?P<value>(?!(?:my|your|not|no|so|too|very|really|just|also|still)\b).+)$",
    re.I,
)


# Only a clause that retires a value makes the next "it" its new value: "my job is fine, it is
# busy" says nothing new about the job.
_RETIRED = re.compile(
    r"\b(?:used to|no longer|not|any ?more|changed|stop|stopped|out|gone off|over)\b", re.I
)


def _topic(clause: str) -> str | None:
    if not _RETIRED.search(clause):
        return None
    if _NAME_TOPIC.search(clause):
        return "my name"
    if m := _ATTR_TOPIC.search(clause):
        return f"my {m['attr'] or m['fav']}"
    return None


def _resolve_it(clause: str, topic: str | None) -> str:
    """Read "it is X" as "<topic> is X", when the turn said earlier what "it" is."""
    if topic and (m := _IT_IS.match(clause)):
        return f"{topic} is {m['value']}"
    return clause


# Words elsewhere in the turn that say what "I'm at X" or "I'm in X" means: "I no longer work at
# Accenture, I'm at KPMG", "I don't live in Porto anymore. I'm in Lisbon now".
_WORK_CUE = re.compile(
    r"\b(?:work(?:s|ing|ed)?|jobs?|employer|company|firm|hired|career|role|position|joined|"
    r"quit|resigned|colleagues|promoted|offer|notice|"
    # a post said in the turn: "I'm still a data analyst, but I moved over to Klarna"
    r"(?:an?|still an?) (?:[\w-]+ )?(?:analyst|engineer|developer|designer|consultant|"
    r"accountant|manager|lawyer|scientist|architect|programmer|recruiter|marketer|nurse|"
    r"teacher|editor|researcher))\b",
    re.I,
)
# What says the turn is about where one lives, so "moved over to X" is no new employer.
_LIVING_CUE = re.compile(
    r"\b(?:live[ds]?|living|home|house|flat|apartment|city|country|town|rent|neighbou?rhood)\b",
    re.I,
)
# What says the turn is about studies: "transferred to McGill this semester".
_STUDY_CUE = re.compile(
    r"\b(?:semesters?|terms?|uni|university|college|school|degree|major|course|modules?|studying|"
    r"students?|classes|campus|lectures?|professors?|freshman|sophomore|undergrad|credits|"
    r"transcript|phd|master's|masters|bachelor's|(?:still )?(?:doing|studying|reading) "
    r"(?:[a-z]+ )?[a-z]+(?:ing|ics|ology|istry|ture|ence|ography))\b",
    re.I,
)
# What says the turn is about a name: "changed my last name, I'm Lucia Ward now", "I've
# outgrown my nickname. Please just use Beatrix".
_NAME_CUE = re.compile(
    r"\b(?:(?:my|a|the|new|legal|last|first|maiden|sur|family|given|married|nick) ?names?|"
    r"nickname|call me|called|go by|name change)\b",
    re.I,
)
# A change of name, for "I'm Lucia Ward now": "got married and changed my last name".
_NAME_CHANGE_CUE = re.compile(
    r"\b(?:(?:changed|change|changing|took|taken|updated|new|legal|maiden|married) (?:my |his |"
    r"her |their )?(?:[a-z]+'s )?(?:last |first |sur|family |given |maiden |legal )?name|"
    r"name change)\b",
    re.I,
)
_HOME_CUE = re.compile(
    r"\b(?:move[ds]?|moving|relocat(?:ed|ing)|live[ds]?|living|home|house|flat|apartment|based|"
    r"settled)\b",
    re.I,
)
# A value said to be new: "I'm at KPMG now" is where the user works, not where they are.
_NOW_MARK = re.compile(r"\b(?:now|nowadays|these days|currently|any ?more|from now on)\b", re.I)
_PLACE_NAME = r"(?P<x>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?:of |and |& )?(?-i:[A-Z])[\w&'.-]*){0,3})"
_AT_ORG = re.compile(rf"^I am (?:now )?(?P<prep>at|with) {_PLACE_NAME}$", re.I)
_IN_TOWN = re.compile(rf"^(?:I am|we are) (?:now )?in {_PLACE_NAME}$", re.I)
# What "at X" names when it is a place of study, not of work.
SCHOOL = re.compile(r"\b(?:university|college|school|uni|academy|institute|polytechnic)\b", re.I)


# "I moved over to Klarna": an employer in a turn about work, a home otherwise ("I moved to
# Munich" is a move in any turn).
_MOVED_OVER = re.compile(
    rf"^I (?:have )?(?:just |recently )?(?:moved|went|switched|hopped|jumped) over "
    rf"to {_PLACE_NAME}$",
    re.I,
)
# "I transferred to McGill", "I'm at McGill now": a school in a turn about studies.
_TRANSFERRED = re.compile(
    rf"^I (?:have )?(?:just |recently |finally )?transferred (?:over )?to {_PLACE_NAME}"
    r"(?P<where> in (?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*)?)?(?:,.*| for .*)?$",
    re.I,
)
# "I'm Lucia Ward now" after "I changed my last name": the new name, in any case.
_I_AM_NAMED = re.compile(
    r"^I am (?:now )?(?P<x>(?!(?:so|very|really|a|an|the|not|now|still|just|also|too|happy|glad|"
    r"fine|done|back|here|married|engaged|single|divorced|going|getting|feeling|in|at|on|with|"
    r"from|called|known)\b)[A-Za-z][a-z'-]+(?: [A-Za-z][a-z'-]+){1,2})$"
)
# "Please just use Beatrix from now on" in a turn about a name: how to be addressed.
_USE_NAME = re.compile(
    r"^(?:[^,]{1,60},\s*)?(?:please |just |you can |now |so )*"
    r"(?:use|stick to|stick with|go with|switch to) "
    r"(?P<x>(?-i:[A-Z])[a-z]+(?:-(?-i:[A-Z])[a-z]+)?)$",
    re.I,
)


def _reading(clause: str, raw: str, turn: str) -> str:
    """Read a clause by what the rest of the turn is about.

    "I'm at X" is an employer and "I'm in X" a home when the turn says so; "I transferred to
    X" is a school in a turn about studies; "I moved over to X" an employer in one about work;
    "I'm Lucia Ward now" and "use Beatrix" a name in one about names.
    """
    if (m := _AT_ORG.match(clause)) and not SCHOOL.search(m["x"]):
        at = m["prep"].lower() == "at"
        if _WORK_CUE.search(turn):
            return f"I work at {m['x']}"
        if at and _STUDY_CUE.search(turn):  # "I'm at LSE now, doing my master's"
            return f"I am enrolled at {m['x']}"
        if at and _NOW_MARK.search(raw):
            return f"I work at {m['x']}"
    if (m := _IN_TOWN.match(clause)) and _HOME_CUE.search(turn):
        return f"I live in {m['x']}"
    undated = strip_when(clause)
    if (
        (m := _MOVED_OVER.match(undated))
        and _WORK_CUE.search(turn)
        and not _LIVING_CUE.search(turn)
        and not SCHOOL.search(m["x"])
    ):
        return f"I work at {m['x']}"
    if (
        (m := _TRANSFERRED.match(undated))
        and _STUDY_CUE.search(turn)
        and not _WORK_CUE.search(turn)
        and not SCHOOL.search(m["x"])
    ):
        return f"I am enrolled at {m['x']}{m['where'] or ''}"
    # Lower case only in a turn typed all in lower case: "I'm software engineer" is no name.
    if (
        (m := _I_AM_NAMED.match(clause))
        and _NAME_CHANGE_CUE.search(turn)
        and (m["x"][0].isupper() or not re.search(r"[A-Z]", turn.replace("I ", "")))
    ):
        return f"my name is {m['x']}"
    if (m := _USE_NAME.match(clause)) and _NAME_CUE.search(turn):
        return f"call me {m['x']}"
    return clause


def clauses(text: str) -> Iterator[str]:
    """The clauses of a user turn that may state a lasting fact, cleaned for the rules."""
    turn = _normalise(text)
    topic: str | None = None
    for sentence, end in _sentences(turn):
        raws = [_timeless(p) for p in _CLAUSE_SPLIT.split(sentence)]
        raws = [r for r in raws if _clean(r)]
        for i, (part, may_state) in enumerate(_parts(sentence, end)):
            raw = raws[i] if i < len(raws) else part
            resolved = _resolve_it(part, topic)
            topic = _topic(part) or topic
            if not may_state:
                continue
            # Read after expanding: "Transferred to McGill!" is "I transferred to McGill".
            for expanded in _expand(resolved):
                clause = _undated_change(_reading(expanded, raw, turn))
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
