"""The offline extractor's rules: which first-person statements are lasting facts, and how.

Each rule is a pattern over one cleaned clause (see :mod:`.text`) and a
third-person template. The first rule that matches wins, so specific rules
("I have a dog named …") stand before general ones ("I <habit verb> …"). Word
lists keep the general rules from taking chatter: "I have a meeting" names no
relative, pet, condition or possession; "I play the piano" is a hobby verb,
"I went to the shop" is not a present-tense habit at all.

A rule may name a *slot*: a fact that has one current value per namespace
(name, home, age, work, …), so a newer statement replaces the older one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from graphs.memory_manager.offline.text import (
    AGE_WORDS,
    SCHOOL,
    strip_when,
    third_person,
    third_person_verb,
)

__all__ = ["Match", "match", "replacement"]


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _words(*items: str) -> str:
    return "(?:" + "|".join(items) + ")"


_NUMBER = _words(
    r"a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    r"\d+", "twin", "a pair of", "several", "some", "lots of", "a couple of",
)  # fmt: skip
_FAMILY = _words(
    r"kids?", "children", "child", "sons?", "daughters?", "brothers?", "sisters?", "siblings?",
    "twins", "grandkids", "grandchildren", "grandsons?", "granddaughters?", "step-?sons?",
    "step-?daughters?", "step-?kids", "boys", "girls", "wife", "husband", "partner", "boyfriend",
    "girlfriend", r"fianc[eé]e?", "spouse", "toddlers?", "teenagers?", "teens", "bab(?:y|ies)",
    "nephews?", "nieces?", "cousins?", "parents", "mom", "mum", "dad", "mother", "father",
    "grandmother", "grandfather", "grandma", "grandpa", "aunt", "uncle", "best friend",
    "roommate", "flatmate", "in-laws", "son-in-law", "daughter-in-law",
)  # fmt: skip
_PET = _words(
    r"dogs?", "cats?", r"pupp(?:y|ies)", "kittens?", "kitty", "hamsters?", "rabbits?",
    r"bunn(?:y|ies)", "parrots?", "birds?", "budgies?", "fish", "goldfish", "turtles?",
    "tortoises?", "snakes?", "lizards?", "geckos?", "horses?", r"pon(?:y|ies)", "guinea pigs?",
    "ferrets?", "chickens?", "hens?", "goats?", "rats?", "mice", "pets?", "retrievers?",
    "labradors?", "labs?", "poodles?", "terriers?", "beagles?", "dachshunds?", "spaniels?",
    r"husk(?:y|ies)", "collies?", "corgis?", "pugs?", "bulldogs?", "shepherds?", "chihuahuas?",
    "greyhounds?", "tabb(?:y|ies)", "bearded dragons?", "axolotls?", "cockatiels?",
    r"canar(?:y|ies)", "iguanas?", "chinchillas?", "gerbils?", "alpacas?",
)  # fmt: skip
_POSSESSION = _words(
    "cars?", "bikes?", "bicycles?", "motorbikes?", "motorcycles?", "scooters?", "vans?",
    "trucks?", "houses?", "flats?", "apartments?", "condos?", "cabins?", "cottages?", "boats?",
    "garden", "allotment", "pianos?", "guitars?", "violins?", "cellos?", "drum kit", "drums",
    "3d printer", "telescope", "camper(?:van)?", "RV", "farm", "vineyard", "Tesla", "camera",
    "e-?bike", "kayak", "canoe", "sailboat", "holiday home", "vacation home", "ranch",
)  # fmt: skip
_CONDITION = _words(
    "(?:type [12] )?diabetes", "asthma", "c(?:o)?eliac(?: disease)?", "epilepsy", "arthritis",
    "migraines", "ADHD", "autism", "dyslexia", "IBS", "crohn's(?: disease)?",
    "high blood pressure", "hypertension", "a heart condition", "anxiety", "depression",
    "eczema", "psoriasis", "tinnitus", "a bad back", "bad knees?", "a bad knee", "a pacemaker",
    "hearing loss", "sleep apnea", "insomnia", "long covid", "lupus", "MS",
    "multiple sclerosis", "chronic pain", "chronic fatigue(?: syndrome)?", "PCOS",
    "endometriosis", "gout", "osteoporosis", "a thyroid condition", "hypothyroidism",
    "colou?r ?blindness", "a food allergy", "OCD", "PTSD", "fibromyalgia", "scoliosis",
    "a nut allergy", "hay ?fever", "a heart murmur", "glaucoma", "a stammer", "a stutter",
)  # fmt: skip
_HEALTH_STATE = _words(
    "hard of hearing", "(?:deaf|blind) in (?:one|my left|my right) (?:ear|eye)",
    "colou?r ?blind", "hearing impaired", "visually impaired",
    "partially sighted", "in a wheelchair", "a wheelchair user", "type [12] diabetic",
    "pre-?diabetic", "immunocompromised", "on dialysis", "in recovery", "sober",
)  # fmt: skip
_DIET_WORDS = _wordset(
    """vegetarian vegan pescatarian pescetarian flexitarian keto paleo kosher halal teetotal
    teetotaler teetotaller gluten-free dairy-free plant-based carnivore omnivore"""
)
# One-word states that last: "I have been vegetarian for ten years" → "User is vegetarian."
_LASTING_STATES = _DIET_WORDS | _wordset(
    """sober single retired self-employed unemployed diabetic celiac coeliac blind deaf
    vegetarian married divorced widowed"""
)
# Hobby and lasting-activity verbs: "I <verb> …" is a fact without a "usually" or "every".
_HOBBY_VERBS = _wordset(
    """speak play drive own use study teach collect knit crochet paint draw sketch sing dance
    surf ski snowboard climb boulder hike swim run cycle bike bake garden fish sew skate box
    golf meditate volunteer brew row sail dive kayak jog practice practise do code program
    attend follow support coach train lift wear commute walk work freelance write read cook
    tutor mentor compose foster ride juggle fence quilt crossfit skateboard listen watch
    keep raise grow breed restore build make"""
)
# Verbs that never state a lasting fact by themselves, even with "always" or "every day".
_NOT_HABIT = _wordset(
    """am are was were had did know mean see saw agree forgot remember believe feel felt think
    guess suppose wonder hope wish want need like love hate enjoy prefer went got came made
    took said told asked thought bought ate drank ran swam found lost left"""
)
_ADVERB = _words(
    "usually", "always", "often", "normally", "regularly", "generally", "typically", "never",
    "rarely", "seldom", "sometimes", "occasionally", "mostly", "mainly", "only", "frequently",
    "daily", "religiously", "tend to", "still", "also",
)  # fmt: skip
_FREQUENCY = re.compile(
    r"\b(?:every|each|daily|weekly|monthly|nightly|yearly|annually|twice|once a|"
    r"\w+ times a|on (?:weekends|weekdays|the weekends?|\w+days)|in the (?:mornings|evenings)|"
    r"at night|before (?:work|bed|breakfast)|after (?:work|school|dinner)|most (?:days|mornings|"
    r"evenings|weekends|nights)|a lot|for fun|for a living|as a hobby|in my (?:free|spare) time)\b",
    re.I,
)
# What points at the conversation ("I love how you explained that", "I use this"), or picks
# among the assistant's options ("I prefer the second one"), is no fact about the user.
_ABOUT_THE_CHAT = re.compile(
    r"\b(?i:you|your|yours|this|these|those)\b|\bit\b|^(?i:the (?:\w+ )?(?:one|ones|version|"
    r"option|options|answer|draft|suggestion|idea|choice|way|approach|method|solution|file|"
    r"link|example|format|template|plan|layout|design))\b|^(?i:the (?:first|second|third|last|"
    r"other|former|latter|previous|next|original|shorter|longer|simpler) )|\b(?i:better|instead)$"
)
# People and animals: "my boss is driving me crazy", "my wife is at work" say what they do now.
_BEINGS = re.compile(
    rf"\b(?:{_FAMILY}|{_PET}|boss|manager|colleague|coworker|friend|neighbou?r|teacher|doctor|"
    r"landlord|team)$",
    re.I,
)
# Self-deprecation and jokes, not identity.
_INSULTS = _wordset("idiot dummy moron fool disaster mess wreck failure pain klutz genius legend")
# "I am <word>" states of the moment, not of the person.
_TRANSIENT = _wordset(
    """back busy done fine glad good great happy here hungry in just late new not okay ok ready
    sad sorry sure thinking tired trying wondering going still also so very really well
    excited afraid confused curious bored home out off on there stressed anxious nervous
    exhausted sleepy sick ill hungover annoyed angry upset worried lonely cold hot thirsty
    full starving lost stuck early free available awake alone asleep drunk away around
    listening leaving working coming looking waiting kidding joking serious fed frustrated
    grateful thankful relieved disappointed overwhelmed impressed surprised shocked scared
    terrified jealous proud embarrassed ashamed delighted pleased thrilled content calm fine
    right wrong correct interested keen able unable allowed about almost finished tempted"""
)
# Capitalised "I am X" words that describe rather than name the user.
# Demonyms end in "-ian", "-ean", "-can" and a few in "-an"; given names ending in "-an"
# (Brendan, Ryan, Ethan) are names.
_NOT_A_NAME = re.compile(
    r"(?:ian|ean|can|kan|ese|ish|i|ch|ic|ist|que|ss)$|^(?:German|Cuban|Kenyan|Tibetan|Afghan|"
    r"Samoan|Texan|Vegan|Pagan|Lutheran|Human|Veteran|Muslim|Hindu|Sikh|Greek|Jewish|Swiss|Thai|Kiwi|"
    r"Aussie|Brit|Gen|Jain|Mormon|Christian|Catholic|Protestant|Buddhist|Atheist|Agnostic|"
    r"Republican|Democrat|Libra|Leo|Virgo|Scorpio|Aries|Gemini|Cancer|Taurus|Pisces|Aquarius|"
    r"Capricorn|Sagittarius|Here|Back|Fine|Good|Done|Okay|OK|Sorry|Ready|Sure)$"
)
_NAME_STOP = _wordset(
    """back later when if tomorrow tonight at after before on in a an the crazy anytime
    that this it which what there here he she they
    whenever now maybe sometime soon please asap out old-fashioned whatever anything
    something any up over by to"""
)
# "my <attr> is …" that says what is happening, not who the user is.
_ATTR_STOP = _wordset(
    """question point problem issue concern guess bad fault pleasure turn answer request idea
    flight train bus meeting appointment order package head stomach back day morning week
    weekend internet wifi phone battery laptop computer code email message bill reservation
    table mind excuse reason plan plans schedule shift guess bet feeling impression
    understanding concern worry dinner lunch breakfast coffee tea food drink taxi ride
    delivery parcel screen connection password account"""
)
# Where one lives: "a small flat in Ghent" says the town.
_DWELLING = _words(
    "house", "flat", "apartment", "condo", "cottage", "bungalow", "studio", "houseboat",
    "caravan", "place", "home", "loft", "townhouse", "village", "town", "city", "suburb",
    "farmhouse", "cabin",
)  # fmt: skip
# An age in words, from five to ninety-nine (text.py reads "it's my birthday, eighteen" too).
_AGE_WORDS = AGE_WORDS
_CAR_MAKES = _words(
    "Toyota", "Honda", "Ford", "Kia", "VW", "Volkswagen", "Tesla", "Mazda", "Skoda", "Škoda",
    "Renault", "Fiat", "Nissan", "Hyundai", "BMW", "Audi", "Mercedes(?:-Benz)?", "Volvo",
    "Subaru", "Jeep", "Peugeot", r"Citro[eë]n", "Opel", "Vauxhall", "Seat", "Cupra", "Mini",
    "Porsche", "Chevrolet", "Chevy", "Dodge", "Lexus", "Mitsubishi", "Suzuki", "Dacia",
    "Polestar", "Rivian", "Land Rover", "Range Rover", "Jaguar", "Alfa Romeo", "Saab", "BYD",
    "Genesis", "Cadillac", "Buick", "GMC", "Lincoln", "Acura", "Infiniti",
)  # fmt: skip
_CAR_MAKE = f"(?-i:{_CAR_MAKES})"  # case-sensitive: "a Seat", not "a seat"
# What "I am a …" names as a job, so a newer one replaces it ("I'm a nurse" → "I'm a midwife").
_OCCUPATIONS = _wordset(
    """accountant actor actress administrator adviser advisor analyst animator architect artist
    assistant attorney auditor baker banker barber barista bartender beautician bookkeeper
    builder butcher buyer carpenter caregiver carer cashier chef chemist cleaner clerk coach
    consultant contractor cook counsellor counselor courier curator dancer dentist designer
    detective developer dietitian director doctor driver economist editor electrician engineer
    entrepreneur farmer firefighter fisherman florist freelancer gardener geologist hairdresser
    headteacher historian housekeeper illustrator instructor interpreter investor janitor jeweller
    journalist judge labourer laborer lawyer lecturer librarian lifeguard locksmith machinist
    manager mechanic midwife miner model musician nanny nurse officer optician paralegal
    paramedic pharmacist photographer physicist physio physiotherapist pilot plumber poet
    policeman policewoman politician postman postwoman producer professor programmer psychiatrist
    psychologist publisher receptionist recruiter reporter researcher salesman saleswoman
    scientist secretary solicitor sommelier surgeon surveyor tailor teacher technician therapist
    translator tutor vet veterinarian waiter waitress welder writer zookeeper ceo cto cfo founder
    intern apprentice executive supervisor coordinator specialist strategist marketer
    copywriter sailor soldier chaplain priest pastor rabbi imam minister diplomat hygienist
    anaesthetist anesthetist orthodontist optometrist podiatrist chiropractor nutritionist
    dietician radiographer sonographer dispatcher conductor roofer plasterer decorator tiler"""
)
_JUDGED = _wordset(
    """good bad great terrible awful decent careful fast slow nervous lousy poor better best
    worse worst excellent amazing horrible confident safe reckless messy picky big huge keen
    natural born lazy aspiring wannabe amateur hobby weekend failed frustrated struggling
    budding self-taught closet secret avid enthusiastic occasional casual"""
)
# What "my job is …" judges rather than names.
_VERDICT = _JUDGED | _wordset(
    """fine ok okay boring stressful fun hard tough nice exhausting demanding lovely annoying
    weird crazy cool killing driving getting making so too very really pretty quite
    remote hybrid"""
)
# "my <attr>" said in other words is one slot: "favorite color" = "favourite colour".
_ATTR_WORDS = {
    "favorite": "favourite", "color": "colour", "colors": "colours", "movie": "film",
    "movies": "films", "dish": "food", "meal": "food", "cuisine": "food", "fave": "favourite",
    "fav": "favourite", "favourite": "favourite",
}  # fmt: skip
_ATTR_DROP = _wordset("new current present latest all-time absolute real actual")
_PREPOSITIONS = _wordset("to in at on for about from with of by as")
# "my employer is …" and "I work at …" are the same slot.
_ATTR_SLOTS = {
    "employer": "work", "company": "work", "workplace": "work", "job": "job",
    "occupation": "job", "profession": "job", "job title": "job", "car": "car",
    "major": "study", "name": "name", "first name": "name", "nickname": "name",
    "home": "home", "age": "age", "relationship status": "relationship",
    # "my MSc is in data science" after "I'm doing an MSc in economics"
    "degree": "study", "msc": "study", "bsc": "study", "ba": "study", "ma": "study",
    "phd": "study", "masters": "study", "master's": "study", "bachelor's": "study",
    "mba": "study", "doctorate": "study", "diploma": "study", "course": "study",
    "subject": "study", "studies": "study", "field of study": "study",
}  # fmt: skip
# What "my degree is …" must be to name a subject: "in data science", not "almost done".
_STUDY_VALUE = re.compile(r"^(?:now )?(?:in|on) \w|^[a-z]+(?:ology|istry|ics|ism)$", re.I)
_SLOT_KINDS = {"work": "work", "job": "work", "car": "possession", "study": "study",
               "name": "name", "home": "home", "age": "age", "relationship": "family"}  # fmt: skip
_OBJ = r"(?P<obj>[^?]{1,120}?)"
# A name ends at a comma or an aside: "Mira, Mirela was a typo", "Lucy Okafor after the wedding".
_NAME_OBJ = (
    r"(?P<obj>[^?,]{1,60}?)(?:(?:,| (?:after|since|following|because|as of|for|from) )[^?]{0,80})?$"
)
# Up to three describing words before a noun, none of them a preposition: "a 5-year-old golden".
_FEW_WORDS = r"(?:(?!(?:with|for|at|to|about|from|of|on|in)\b)[\w'-]+ ){0,3}?"


@dataclass(frozen=True)
class Match:
    """What a rule made of a clause."""

    kind: str
    slot: str | None
    text: str
    obj: str
    settles: str | None = None
    """Another slot the fact answers too: "works as an engineer at Globex" tells the job."""


Check = Callable[[dict[str, str], str], bool]


@dataclass(frozen=True)
class _Rule:
    kind: str
    slot: str | None
    pattern: re.Pattern[str]
    template: str
    check: Check | None = None
    keep_when: bool = False  # "for ten years" is part of the fact, not a date to drop


def _rule(
    kind: str,
    slot: str | None,
    pattern: str,
    template: str,
    check: Check | None = None,
    *,
    keep_when: bool = False,
) -> _Rule:
    return _Rule(kind, slot, re.compile(pattern, re.I), template, check, keep_when)


def _is_name(groups: dict[str, str], clause: str) -> bool:
    words = groups["obj"].split()
    if not 1 <= len(words) <= 4 or words[0].lower() in _NAME_STOP:
        return False
    if not all(re.fullmatch(r"[A-Za-z][\w.'-]*", w) for w in words):
        return False
    # A lower-case "name" in a turn that otherwise uses capitals is not a name ("call me back").
    return words[0][0].isupper() or not re.search(r"[A-Z]", clause.replace("I ", ""))


def _is_self_name(groups: dict[str, str], clause: str) -> bool:
    word = groups["obj"]
    return word[0].isupper() and not _NOT_A_NAME.search(word) and word.lower() not in _TRANSIENT


def _proper(text: str) -> bool:
    """Whether ``text`` starts with a capitalised word: a name, not a thing."""
    return bool(re.match(r"(?:the )?[A-Z]", text))


def _unplaced(obj: str) -> bool:
    """Whether what "home is …" names is no place: "Home is where the heart is", "Work is home"."""
    return bool(
        re.match(r"(?:where|what|when|how|who|wherever|not|a|an|the|my|your|it|this|that|here|"
                 r"there|work|school|everything|anywhere)\b", obj, re.I)
    )  # fmt: skip


def _school(text: str) -> bool:
    return bool(SCHOOL.search(text))


def _not_pronoun(groups: dict[str, str], clause: str) -> bool:
    return not re.match(r"(?:it|this|that|them|these|those|you|your|one|so|too|not|when|"
                        r"they|he|she|we|him|her|us|"
                        r"whenever|how|what|where|why|if|the way)\b", groups.get("obj", ""),
                        re.I)  # fmt: skip


def _got_into_a_place(obj: str) -> bool:
    """Whether "I got into X" is getting in somewhere (a school, a car, trouble), not a taste."""
    return _proper(obj) or bool(
        re.match(r"(?:the|a|an|my|his|her|their|our|some|trouble|debt|bed|university|college|"
                 r"school|uni|grad|med|law|medical|graduate|business|art|drama|music) ", obj + " ",
                 re.I)
    )  # fmt: skip


def _lasting_identity(groups: dict[str, str], clause: str) -> bool:
    obj = groups["obj"].lower()
    if obj.split()[0] in _INSULTS:
        return False
    return _not_pronoun(groups, clause) and not re.match(
        r"(?:bit|little|lot|tad|wee|mess|wreck|few|couple|second|minute|hour|day|week|"
        r"little bit|one who|one that|only one)\b",
        obj,
    )


def _lasting_attribute(groups: dict[str, str], clause: str) -> bool:
    attr = groups["attr"].lower().split()
    obj = groups["obj"].lower()
    if _attr_slot(groups["attr"]) in _SLOT_KINDS and obj.split()[0] in _VERDICT:
        return False  # "my employer is great" judges the employer, it does not name one
    if _attr_slot(groups["attr"]) == "name":
        return False  # a name the name rules did not take is not a name
    if _attr_slot(groups["attr"]) == "study" and attr[-1] != "major":
        return bool(_STUDY_VALUE.match(obj))
    lead = _ATTR_WORDS.get(attr[0], attr[0])  # "fav food" is a favourite too
    favourite = lead in ("favourite", "preferred", "usual", "go-to", "all-time")
    if (attr[-1] in _ATTR_STOP and not favourite) or attr[0] in ("only", "last", "next"):
        return False
    if _BEINGS.search(groups["attr"]) and re.match(
        r"(?:\w+ing|at|out|away|home|here|there|asleep|sick|ill|busy|off|back)\b", obj
    ):
        return False  # what a person or a pet is doing or where they are right now
    return not re.match(r"(?:dead|broken|late|cold|ready|done|here|gone|missing|down|"
                        r"not|no longer|so|too|very|really|killing|acting|running)\b",
                        obj)  # fmt: skip


def _habit(groups: dict[str, str], clause: str) -> bool:
    verb, rest = groups["verb"].lower(), groups.get("obj") or ""
    if verb in _NOT_HABIT or verb.endswith("ed") or rest.lower().startswith(("not", "so ")):
        return False
    if groups.get("adv") or _FREQUENCY.search(rest):
        return True
    return verb in _HOBBY_VERBS and _not_pronoun(groups, clause)


def _goal(groups: dict[str, str], clause: str) -> bool:
    verb, obj = groups["verb"].lower(), (groups.get("obj") or "").lower()
    needs = {
        "writing": r"(?:a|my|an) (?:\w+ )?(?:book|novel|thesis|dissertation|memoir|screenplay|"
        r"blog|cookbook|album|musical|play|series)",
        "taking": r"(?:\w+ )*(?:class|classes|lessons|course|courses|medication|meds)\b",
        "doing": r"(?:a|an|my) (?:\w+ )?(?:phd|master|masters|master's|degree|apprenticeship|"
        r"course|internship|residency|bootcamp|mba|training|program|programme|doctorate)\b",
        "looking for": r"(?:a |an |my )?(?:new )?(?:job|work|apartment|flat|house|partner|"
        r"place|home|role|position)\b",
        "trying to": r"(?!(?:figure|find|decide|understand|remember|get|fix|work out|book|make|"
        r"choose|pick|sort|see|reach|call|open|load|log|sign)\b)",
    }
    pattern = needs.get(verb)
    return _not_pronoun(groups, clause) and (pattern is None or bool(re.match(pattern, obj)))


def _age_word(groups: dict[str, str], clause: str) -> bool:
    return 4 <= int(groups["obj"]) <= 120


_PARTNER = r"(?:boyfriend|girlfriend|partner|husband|wife|fianc[eé]e?|spouse)"
_PARTNER_NAME = r"(?P<obj>(?-i:[A-Z])[a-z]+(?: (?-i:[A-Z])[a-z]+)?)"
# "My wife is Italian", "My partner is Catholic" describe, they do not name.
_NOT_A_PARTNER = re.compile(
    r"(?:ese|ish|ian|ean|ic|ch|ss)$|^(?:Thai|Swiss|Greek|Kiwi|Aussie|Brit|Jewish|Muslim|Hindu|"
    r"Sikh|Christian|Catholic|Buddhist|Here|Away|Home|Back|Great|Fine|Lovely|Amazing)$"
)


def _is_partner_name(groups: dict[str, str], clause: str) -> bool:
    return not _NOT_A_PARTNER.search(groups["obj"].split()[0])


# The ways of saying "my name is": a statement, a change, or how to be addressed.
_NAME_LEAD = _words(
    r"my (?:new |real |actual |legal |full |first |given )*name is(?: actually| really| now|"
    r" officially)?",
    "the name is", "I am (?:now )?called", "I am known as",
    r"my name (?:has |is )?(?:now )?(?:changed|been changed|been updated)(?: again)? to",
    r"I (?:have )?(?:just |recently |legally |officially )?(?:changed|updated) my name to",
    # "I go by Gus", "I'm going by Jay now", "I prefer to go by Jay"
    r"I (?:am |have been |now |(?:prefer|like) to )?go(?:ing)? by",
    r"I (?:prefer|like) (?:to be|being) called",
    r"(?:please |you can |you may |just )*(?:start |begin )?(?:call|calling) me"
    r"(?: by my name,? which is| by)?",
    r"(?:please |you can |you may |just )*(?:address|refer to) me as",
    r"(?:please )?use the name",
    r"(?:everyone|everybody|people|most people|folks|my friends|friends) (?:usually |all |"
    r"just |now )?calls? me",
)  # fmt: skip
# "Mustard is my favourite colour", "KPMG is my new employer": what "<X> is my …" may name.
_REVERSED_ATTR = (
    r"(?:new |current )?(?:(?:favou?rite|fave|fav|first|native|mother|second|main|preferred|"
    r"all-time favou?rite)(?: [a-z-]+){1,2}|employer|company|workplace|car|major|hometown)"
)
# "has replaced teal as my favourite colour": the new value takes the old one's place.
_BECOMES = (
    r"(?:is|are|has become|have become|became|(?:has |have )?(?:just )?(?:replaced|overtaken|"
    r"overtook|dethroned|displaced|ousted|beaten|beat|taken over from|took over from) "
    r"[^,]{1,40}? as)"
)
# What one studies, by its shape or a short list: "I've switched to geology".
_SUBJECT_WORD = (
    # not "mature": "I'm a mature student" says no subject
    r"(?:(?!mature\b)[a-z-]+(?:ology|ography|istry|onomy|osophy|ics|ism|ture)|law|medicine|nursing|"
    r"history|art|music|english|french|german|spanish|italian|chinese|japanese|latin|classics|"
    r"finance|accounting|business|marketing|management|design|drama|dentistry|pharmacy|"
    r"midwifery|engineering|computing|computer science|data science|anthropology|film|"
    r"journalism|education|veterinary science|social work|fine art|art history)"
)
_SUBJECT = rf"(?P<obj>(?-i:{_SUBJECT_WORD}(?: (?:and|&) {_SUBJECT_WORD})?))"
_I = r"(?:I|we)"
_RULES: list[_Rule] = [
    # Identity and preferred name.
    _rule("name", "name", rf"^{_NAME_LEAD}\s+{_NAME_OBJ}", "User's name is {name}.", _is_name),
    # The other order: "Leif is my name", "Jo is what I am called".
    _rule("name", "name",
          r"^(?P<obj>[^?,]{1,60}?) is (?:now )?(?:my (?:new |real |actual |legal |full )?name|"
          r"what I am called|"
          r"what I go by|what (?:people|everyone|everybody|most people|folks|my friends) "
          r"(?:usually |all |just )?calls? me|"
          r"the name I (?:use|go by|prefer))$",
          "User's name is {name}.", _is_name),
    _rule("name", "name", r"^I am (?P<obj>[A-Za-z][a-z]+)$", "User's name is {name}.",
          _is_self_name),
    # Residence, origin, moves.
    # "I live in a small flat in Ghent", "We moved into a house in Antwerp": the town is home.
    _rule("home", "home",
          rf"^{_I} (?:live|am living|are living|(?:have )?(?:just |recently |finally )?"
          rf"(?:moved|relocated) (?:in)?to) (?P<what>(?:a|an|the|our|my) {_FEW_WORDS}{_DWELLING}) "
          rf"(?P<prep>in|near|outside|just outside)\s+{_OBJ}$",
          "User lives in {what} {prep} {obj}."),
    _rule("home", "home",
          rf"^{_I} (?:live|reside|are living|am living|are based|am based|have been living|"
          r"have lived|(?:packed up and |sold up and |upped sticks and )?(?:have )?"
          r"(?:just |recently |finally |since )?(?:moved|relocated|settled)"
          r"(?: back| here| over| out| from [^,]{1,40}?)?"
          # "I've moved across the country to Brisbane", "we relocated overseas to Oslo"
          r"(?: (?:all the way|halfway) across the (?:country|world|globe)| across (?:the )?"
          r"(?:country|world|globe|pond|border|ocean|continent|state|town)| overseas| abroad|"
          r" interstate| up north| down south| out west| back east| back home| cities|"
          r" countries| states| all the way)?"
          # "we've moved again, this time to Kigali"
          r"(?:,? (?:again|once more|once again|yet again)(?:,? this time|,)?|,? this time)?)"
          rf"\s+(?:in|to|at|out of|over to|down to|up to|back to)\s+{_OBJ}$",
          "User lives in {obj}."),
    # "My apartment is in Brooklyn": where one's dwelling is, is where one lives.
    _rule("home", "home",
          rf"^(?:my|our) (?:new |current )?{_DWELLING} is (?:now )?"
          r"(?P<prep>in|near|just outside|outside|on the outskirts of)\s+"
          r"(?P<obj>(?-i:[A-Z])[^?]{0,80}?)$",
          "User lives {prep} {obj}."),
    _rule("home", "home",
          rf"^(?:my (?:new |current )?home|home for me|home|my hometown now) is (?:now )?(?:in )?"
          rf"{_OBJ}$",
          "User lives in {obj}.", lambda g, c: not _unplaced(g["obj"])),
    # "Lisbon is home now", "I now call Lisbon home", "Lisbon is where I live".
    _rule("home", "home",
          r"^(?P<obj>(?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*){0,2}) is (?:now )?(?:my )?(?:new )?"
          r"(?:home|where I (?:live|am based|call home))$",
          "User lives in {obj}.", lambda g, c: not _unplaced(g["obj"])),
    _rule("home", "home",
          r"^I (?:now )?call (?P<obj>(?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*){0,2}) home$",
          "User lives in {obj}."),
    _rule("home", "home",
          r"^I am (?:now )?an? (?P<obj>(?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*){0,2}) "
          r"(?:resident|local)$",
          "User lives in {obj}."),
    _rule("home", "home",
          rf"^{_I} (?:have )?(?:finally )?(?:made the (?:big )?move|ended up (?:moving|settling))"
          rf" (?:to|in)\s+{_OBJ}$",
          "User lives in {obj}."),
    _rule("home", None,
          r"^(?:I|we) live (?P<obj>(?:with|near|alone|by|on|outside|close to|next to|just "
          r"outside|above|in a|in an|on a)\b.{0,100}?)$",
          "User lives {obj}.", _not_pronoun),
    _rule("origin", "origin", rf"^{_I} (?:am|are|come) (?:originally |also )?from\s+{_OBJ}$",
          "User is from {obj}.",
          lambda g, c: not re.search(r"\b(?:team|department|dept|office|company|group|side|"
                                     r"support|sales|class)$", g["obj"], re.I)),
    _rule("origin", "birthplace",
          rf"^I was (?P<how>born and raised|born and bred|born|raised) (?P<prep>in|on|near|at)"
          rf"\s+{_OBJ}$",
          "User was {how} {prep} {obj}."),
    _rule("origin", "grew up",
          rf"^I (?:grew up|spent my childhood) (?P<prep>in|on|near|outside|by|around)\s+{_OBJ}$",
          "User grew up {prep} {obj}."),
    # Age.
    _rule("age", "age",
          r"^I am (?:now |currently )?(?P<obj>\d{1,3})(?: years old| yrs old| y/?o| years of age"
          r"|-years-old| years young)?(?:,? now)?(?:, [^,]{1,30})?$",
          "User is {obj} years old.", _age_word),
    _rule("age", "age",
          r"^I (?:just |recently )?(?:celebrated|had) my (?P<obj>\d{1,3})(?:st|nd|rd|th) birthday$",
          "User is {obj} years old.", _age_word),
    _rule("age", "age", r"^I (?:just |recently )?(?:turned|hit|reached) (?P<obj>\d{1,3})$",
          "User is {obj} years old.", _age_word),
    _rule("age", "age",
          rf"^I (?:am|(?:just |recently )?turned) (?P<obj>{_AGE_WORDS})"
          r"(?: years old| years of age)?$",
          "User is {obj} years old."),
    _rule("age", "age",
          r"^I am in my (?P<obj>(?:early |mid |mid-|late )?(?:twenties|thirties|forties|fifties|"
          r"sixties|seventies|eighties|nineties|\d0s|\d0's))$",
          "User is in their {obj}."),
    # Relationships and family.
    _rule("family", "relationship",
          r"^(?:I am|we are|I (?:just |recently |finally )?got|we (?:just |recently )?got) "
          r"(?P<state>married|engaged|divorced|single|widowed|separated|in a relationship)"
          r"(?P<obj>(?: to| with)\s+.{1,80}?)?$",
          "User is {state} {obj}."),
    # "I've been seeing someone, her name is Ines", "I'm dating someone new called Rafael".
    _rule("family", "relationship",
          r"^I (?:am|have been) (?:now )?(?P<verb>dating|seeing) (?:someone|somebody|a (?:guy|girl|"
          r"man|woman))(?: new)?(?:,? (?:called|named)|, (?:her|his|their) name is) "
          r"(?P<obj>(?-i:[A-Z])[a-z]+)$",
          "User is {verb} someone named {obj}."),
    # A partner by name is the relationship: "My boyfriend is Tomas", "Noor is my wife".
    _rule("family", "relationship",
          rf"^(?:my|our) (?:new )?(?P<who>{_PARTNER})(?:'s name)? is (?:now |officially )?"
          rf"(?:called |named )?{_PARTNER_NAME}$",
          "User{bond} {obj}.", _is_partner_name),
    _rule("family", "relationship",
          rf"^{_PARTNER_NAME} is (?:now |officially |finally )?my (?:new )?(?P<who>{_PARTNER})$",
          "User{bond} {obj}.", _is_partner_name),
    # "I'm dating someone now", "I'm seeing someone": no longer single.
    _rule("family", "relationship",
          r"^I (?:am|have been) (?:now )?(?P<verb>dating|seeing) "
          r"(?P<obj>someone|somebody|a (?:guy|girl|man|woman)|(?-i:[A-Z])[a-z]+)$",
          "User is {verb} {obj}.", lambda g, c: g["obj"] not in ("Dr", "Doctor")),
    # "I separated", "we broke up", "I remarried": the new status.
    _rule("family", "relationship",
          r"^(?:I|we) (?:have )?(?:just |recently |finally )?(?P<verb>separated|split up|broke up|"
          r"divorced|remarried|got remarried|tied the knot|got hitched)$",
          "User is {verb_status}."),
    _rule("family", "relationship",
          r"^I have been (?P<state>married|engaged|divorced|single|widowed|separated)"
          r"(?P<obj>(?: to| with)\s+.{1,80}?)?$",
          "User is {state} {obj}."),
    # A partner says the relationship status: "I have a boyfriend now" after "I'm single".
    _rule("family", "relationship",
          r"^I (?:have|have got|got) (?P<obj>(?:a|an) (?:new )?(?:boyfriend|girlfriend|partner|"
          r"husband|wife|fianc[eé]e?|spouse)(?: (?:named|called) [A-Z][\w'-]*)?)$",
          "User has {obj}."),
    _rule("family", None,
          rf"^{_I} (?:have|have got|got) (?P<obj>{_NUMBER}\s+{_FEW_WORDS}{_FAMILY}\b.{{0,100}}?)$",
          "User has {obj}.", keep_when=True),
    _rule("family", None,
          rf"^{_I} (?:do not|never) (?:have|want) (?P<obj>(?:any )?(?:kids|children|siblings|"
          rf"brothers or sisters))$",
          "User doesn't have {obj}."),
    _rule("family", None,
          rf"^(?:my|our) (?P<attr>(?:[\w'-]+ ){{0,2}}?(?:{_FAMILY}|{_PET})(?: [A-Z][\w'-]+)?) "
          rf"(?P<verb>lives|works|studies|goes|has|plays|loves|likes|hates|teaches|was born|"
          rf"speaks|runs|owns|attends|live|work|study|go|have|play|love)\s+{_OBJ}$",
          "User's {attr} {verb} {obj}.", _lasting_attribute),
    # Pets.
    _rule("pet", None,
          rf"^{_I} (?:have|have got|got|own|adopted|rescued|have adopted|have a rescue) "
          rf"(?P<obj>{_NUMBER}\s+{_FEW_WORDS}{_PET}\b.{{0,100}}?)$",
          "User has {obj}.", keep_when=True),
    _rule("pet", None, rf"^{_I} (?:do not|never) have (?P<obj>(?:any )?pets)$",
          "User doesn't have {obj}."),
    # Languages.
    _rule("language", None, rf"^{_I} (?:can )?speak {_OBJ}$", "User speaks {obj}.",
          _not_pronoun),
    _rule("language", None,
          rf"^I am (?P<adj>fluent|conversational|bilingual|trilingual|native|proficient) "
          rf"in {_OBJ}$",
          "User is {adj} in {obj}."),
    # Allergies and health.
    _rule("health", None,
          rf"^I am (?P<deg>(?:very |severely |mildly |highly |super |deathly |really |extremely )?)"
          rf"allergic to {_OBJ}$",
          "User is {deg} allergic to {obj}."),
    _rule("health", None,
          r"^I have (?P<obj>(?:(?:a|an|severe|mild|bad|serious|some|food|several|\w+) ){0,3}"
          r"(?:allerg(?:y|ies)|intoleran(?:ce|ces)|sensitivit(?:y|ies))\b.{0,80}?)$",
          "User has {obj}."),
    _rule("health", None, r"^I am (?P<obj>[\w-]+(?: |-)(?:intolerant|sensitive|free))$",
          "User is {obj}."),
    _rule("health", None,
          rf"^I (?:have|suffer from|live with|was diagnosed with) (?P<obj>{_CONDITION})$",
          "User has {obj}."),
    _rule("health", None, rf"^I am (?P<obj>{_HEALTH_STATE})$", "User is {obj}."),
    _rule("health", None,
          r"^I (?:cannot|can never|am not allowed to|should not) (?P<verb>have|eat|drink|tolerate|"
          rf"digest|handle|process) {_OBJ}$",
          "User can't {verb} {obj}.", _not_pronoun),
    _rule("health", None,
          r"^I (?P<verb>take|am on) (?P<obj>(?:\w+ )?(?:insulin|medication|meds|blood thinners|"
          r"antidepressants|inhaler|statins|pills|an inhaler|beta blockers)\b.{0,60}?)$",
          "User {verb_take} {obj}."),
    # Diet.
    _rule("diet", None,
          r"^(?:I|we) (?P<neg>do not|never|no longer|rarely|only|mostly|mainly) "
          r"(?P<verb>eat|drink|touch|consume|cook with|smoke|drive|fly|drink alcohol|eat meat)"
          r"(?P<obj>(?: .{1,100}?)?)$",
          "User {neg_verb} {obj}."),
    _rule("diet", None,
          rf"^I (?P<verb>avoid|stay away from|steer clear of|cut out|gave up|have given up|quit|"
          rf"have quit|stopped eating|stopped drinking|keep) {_OBJ}$",
          # "I quit Accenture" leaves an employer; a diet gives up a food, in lower case
          "User {verb_diet} {obj}.", lambda g, c: _not_pronoun(g, c) and not _proper(g["obj"])),
    _rule("diet", None, r"^I am on (?P<obj>(?:a|an|the) .{0,40}diet)$", "User is on {obj}."),
    # Work and study.
    _rule("work", "work",
          r"^I (?:am |have )?(?:just |recently |finally |now )?"
          r"(?P<obj>retired(?:(?: from| as| after)\s+.{1,80}?)?)$",
          "User is {obj}."),
    _rule("work", "job", rf"^I (?:work|am working)\s+(?P<prep>as)\s+{_OBJ}$",
          "User works {prep} {obj}."),
    _rule("work", "work", rf"^I (?:work|am working)\s+(?P<prep>at|for|in)\s+{_OBJ}$",
          "User works {prep} {obj}."),
    _rule("work", "work",
          rf"^I (?:am employed|have been employed|am a (?:\w+ )?employee|(?:just )?got hired|"
          rf"was hired|have been hired) "
          rf"(?P<prep>at|by|with)\s+{_OBJ}$",
          "User works at {obj}."),
    # "I've been poached by Netflix", "I jumped ship to Klarna": hired away, a new employer.
    _rule("work", "work",
          r"^I (?:have )?(?:just |recently |finally |officially )?(?:(?:was|got|have been|been) "
          r"(?:poached|headhunted|head-hunted|snapped up|recruited|taken on|picked up) by|"
          r"jumped ship to|defected to) "
          r"(?P<obj>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?-i:[A-Z0-9])[\w&'.-]*){0,3})$",
          "User works at {obj}.", lambda g, c: not _school(g["obj"])),
    # "Our startup got acquired by Salesforce": the employer is the buyer now.
    _rule("work", "work",
          r"^(?:my|our) (?:company|startup|start-up|employer|firm|agency|studio|business|team) "
          r"(?:just |recently |finally )?(?:got|was|has been) (?:acquired|bought(?: out)?|"
          r"taken over) by "
          r"(?P<obj>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?-i:[A-Z0-9])[\w&'.-]*){0,3})$",
          "User works at {obj}."),
    _rule("work", "job",
          rf"^I (?:just |recently )?(?:got|started|landed|accepted|took) (?:a |my |the )?(?:new )?"
          rf"(?:job|position|role|work) (?P<prep>as)\s+{_OBJ}$",
          "User works {prep_work} {obj}."),
    _rule("work", "work",
          rf"^I (?:just |recently )?(?:got|started|landed|accepted|took) (?:a |my |the )?(?:new )?"
          rf"(?:job|position|role|work) (?P<prep>at|with)\s+{_OBJ}$",
          "User works {prep_work} {obj}."),
    # "I started at KPMG last week", "I accepted an offer from KPMG".
    _rule("work", "work",
          r"^I (?:have )?(?:just |recently )?(?:started (?:work |a job )?at|"
          r"accepted (?:a job |an |a )?(?:job )?offer (?:from|at|with)|signed (?:on )?with) "
          r"(?P<obj>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?-i:[A-Z])[\w&'.-]*){0,3})$",
          "User works at {obj}.", lambda g, c: not _school(g["obj"])),
    _rule("work", "job", rf"^I (?:just |recently )?started working (?P<prep>as)\s+{_OBJ}$",
          "User works {prep} {obj}."),
    _rule("work", "work",
          rf"^I (?:just |recently )?started working (?P<prep>at|for|in)\s+{_OBJ}$",
          "User works {prep} {obj}."),
    # "I left the council and joined Deloitte": a new employer ("I joined Reddit" alone is not).
    _rule("work", "work",
          r"^I (?:left|quit) (?P<left>(?:my |the |a )?(?:[\w&'.-]+ ){0,3}?(?:(?-i:[A-Z])[\w&'.-]*|"
          r"job|position|role|company|firm|council|agency|bank|hospital|office|startup|"
          r"employer|school|university|practice|studio|restaurant|shop|store)) (?:and|to) "
          r"(?:have )?(?:just |recently )?(?:joined|join) "
          r"(?P<obj>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?-i:[A-Z])[\w&'.-]*){0,3})$",
          "User works at {obj}.", _not_pronoun),
    # "I just joined Shopify as an engineer": the employer, with the post ("I joined Reddit"
    # alone names none).
    _rule("work", "work",
          r"^I (?:have )?(?:just |recently |officially )?joined "
          r"(?P<org>(?:the )?(?-i:[A-Z])[\w&'.-]*(?: (?-i:[A-Z])[\w&'.-]*){0,3}) as "
          r"(?P<obj>(?:a|an|the) [^?,]{1,60}?)$",
          "User works at {org} as {obj}.", lambda g, c: _job_title(g["obj"])),
    _rule("work", "job?",
          r"^I (?:have )?(?:just |recently )?(?:retrained|requalified|qualified) as\s+"
          r"(?P<obj>(?:a|an) [^?]{1,100}?)$",
          "User is {obj}."),
    _rule("work", "work",
          rf"^I (?:have )?(?:just |recently )?(?:switched|changed) jobs(?:,| and) (?:I )?(?:now )?"
          rf"work (?P<prep>at|for)\s+{_OBJ}$",
          "User works {prep} {obj}."),
    _rule("work", "job",
          r"^I (?:have )?(?:just |recently |finally )?(?:got |was |have been )?promoted to "
          r"(?P<obj>(?:a |an )?[^?]{1,80}?)$",
          "User was promoted to {obj}.", lambda g, c: _job_title(g["obj"])),
    # "They made me a senior architect", "I was made partner", "I made partner": a new post.
    _rule("work", "job",
          r"^(?:they|my (?:boss|company|firm|manager|employer|team)|the (?:company|firm|board|"
          r"partners)) (?:have )?(?:just |finally |officially )?(?:made|promoted|bumped) me"
          r"(?: up)?(?: to)? (?P<obj>(?:a |an )?[^?,]{1,80}?)$",
          "User is {obj}.", lambda g, c: _job_title(g["obj"])),
    _rule("work", "job",
          r"^I (?:have )?(?:just |finally |officially )?(?:was |got |have been |been )?made "
          r"(?P<obj>(?:a |an )?[^?,]{1,80}?)$",
          "User is {obj}.", lambda g, c: _job_title(g["obj"])),
    _rule("work", "job", rf"^my (?:job|occupation|profession) is(?: now)?\s+{_OBJ}$",
          "User's job is {obj}.", lambda g, c: g["obj"].split()[0].lower() not in _VERDICT),
    _rule("study", "school",
          r"^I (?:study|am studying) (?P<prep>at) (?P<obj>.{0,60}?(?:university|college|school|uni|"
          r"academy|institute|polytechnic|MIT|UCLA|NYU)\b.{0,40}?)$",
          "User studies at {obj}."),
    _rule("study", "study",
          r"^I am (?:doing|taking|studying for|working on|pursuing) "
          r"(?P<obj>(?:a|an|my) (?:[\w'-]+ )?(?:degree|bachelor's|master's|masters|phd|doctorate|"
          r"diploma|ba|bsc|ma|msc) in .{1,60}?)$",
          "User is doing {obj}."),
    # "I started a PhD in statistics", "I've enrolled in a master's in law": a course begun.
    _rule("study", "study",
          r"^I (?:have )?(?:just |recently |now |finally )?(?:started|began|begun|enrolled in|"
          r"enrolled on|signed up for|switched to|moved on to|embarked on|am starting) "
          r"(?P<obj>(?:a|an|my) (?:[\w'-]+ )?(?:degree|bachelor's|master's|masters|phd|doctorate|"
          r"diploma|ba|bsc|ma|msc|mba|llm) in .{1,60}?)$",
          "User is doing {obj}."),
    # "I'm doing a law degree", "I'm studying for a nursing diploma": the subject before it.
    _rule("study", "study",
          r"^I am (?:now )?(?:doing|taking|studying for|working on|pursuing|halfway through) "
          r"(?P<obj>(?:a|an|my) (?:[\w'-]+ ){1,2}?(?:degree|bachelor's|master's|masters|phd|"
          r"doctorate|diploma|ba|bsc|ma|msc|mba|llb|llm)\b.{0,60}?)$",
          "User is doing {obj}."),
    # "I've switched to geology", "I switched from chemistry to physics", "I'm doing physics
    # now", "I'm a physics major": a subject, said without "study".
    _rule("study", "study",
          rf"^I (?:have )?(?:just |recently )?(?:switched|changed|moved|transferred)(?: over)?"
          rf"(?: from [\w &-]{{1,40}}?)? (?:to|into) {_SUBJECT}$",
          "User studies {obj}."),
    _rule("study", "study", rf"^I am (?:now )?doing {_SUBJECT}$", "User studies {obj}."),
    _rule("study", "study", rf"^I am (?:now )?an? {_SUBJECT} (?:major|student)$",
          "User studies {obj}."),
    # "I'm a first-year nursing student at Cardiff University": the subject is the slot (a
    # change of degree replaces it), the year and the school are said with it.
    _rule("study", "study",
          rf"^I am (?:now )?(?P<art>an?) (?P<lead>(?:(?:first|second|third|fourth|final|1st|2nd|"
          rf"3rd|4th)[- ]year|mature|part-time|full-time|postgrad(?:uate)?|undergrad(?:uate)?|"
          rf"graduate|phd|masters?|master's) (?:[\w-]+ )?){_SUBJECT} (?P<role>major|student)"
          rf"(?P<at> (?:at|in) [^?,]{{1,60}}?)?$",
          "User is {art} {lead} {obj} {role} {at}."),
    _rule("study", "study", rf"^I (?P<verb>study|major in) {_OBJ}$",
          "User {verb3} {obj}.", _not_pronoun),
    _rule("study", "study", rf"^I am (?P<verb>studying|majoring in) {_OBJ}$",
          "User is {verb} {obj}.", _not_pronoun),
    _rule("study", "study",
          rf"^I (?:have )?(?:just |recently )?(?:switched|changed) (?:my )?(?:majors?|subjects?|"
          rf"courses?|degrees?)(?: to| over to)\s+{_OBJ}$",
          "User studies {obj}.", _not_pronoun),
    _rule("study", "school",
          r"^I (?:have )?(?:just |recently )?transferred to (?P<obj>.{0,60}?"
          r"(?:university|college|school|uni|academy|institute|polytechnic|MIT|UCLA|NYU)\b.{0,40}?)$",
          "User attends {obj}."),
    _rule("study", "school",
          r"^I (?:go to|attend|am at|am enrolled at|am enrolled in) (?P<obj>.{0,60}?"
          r"(?:university|college|school|uni|academy|institute|polytechnic|MIT|UCLA|NYU)\b.{0,40}?)$",
          "User attends {obj}."),
    # "I'm enrolled at McGill" (and "I transferred to McGill" in a turn about studies, read so
    # by text.py): enrolled, a named place is a school without "university" in its name.
    _rule("study", "school",
          r"^I am (?:now )?enrolled (?:at|in) (?P<obj>(?:the )?(?-i:[A-Z])[\w&'.-]*"
          r"(?: (?:of |and |& )?(?-i:[A-Z])[\w&'.-]*){0,3}(?: in (?-i:[A-Z])[\w'-]*)?)$",
          "User attends {obj}."),
    _rule("study", None,
          r"^I (?:have )?(?:just |recently )?graduated(?P<obj>(?: from| in| with)\s+.{1,80}?)?$",
          "User graduated {obj}.", keep_when=True),
    _rule("study", None,
          r"^I have (?P<obj>(?:a|an) (?:[\w'-]+ ){0,3}?(?:degree|phd|doctorate|masters?|master's|"
          r"bachelors?|bachelor's|mba|diploma|certificate|msc|bsc|ba|ma|license|licence)\b.{0,80}?)$",
          "User has {obj}."),
    # Life events and ongoing goals.
    _rule("identity", "job?", r"^I (?:just |recently )?became (?P<obj>(?:a|an) .{1,80}?)$",
          "User is {obj}."),
    _rule("family", None,
          r"^(?:I|we) (?:just |recently )?had (?P<obj>(?:a|our (?:first|second|third)|twins|a "
          r"little)(?: baby)?(?: (?:baby|son|daughter|child|kid|boy|girl|twins))\b.{0,40}?)$",
          "User has {obj}."),
    _rule("family", None, r"^(?:I am|we are) expecting (?P<obj>.{1,60}?)$",
          "User is expecting {obj}."),
    _rule("goal", None,
          r"^(?:I am|we are) (?P<verb>training|learning|studying|saving|preparing|working towards|"
          r"working toward|working on|trying to|teaching myself|writing|building|renovating|"
          r"recovering|raising|practicing|practising|taking|doing|pursuing|looking for)"
          r"(?P<obj>(?: .{1,100}?)?)$",
          "User is {verb_ing} {obj}.", _goal, keep_when=True),
    _rule("habit", None,
          r"^I have been (?!driving (?:a|an|the) )(?P<verb>\w+ing)(?P<obj>(?: .{1,100}?)?)$",
          "User has been {verb_raw} {obj}.", keep_when=True),
    _rule("identity", None, r"^I have been (?P<art>an?) (?P<obj>.{1,80}?)$",
          "User is {art} {obj}.", _lasting_identity),
    _rule("identity", None, r"^I have been (?P<obj>[\w-]+)(?P<since> (?:for|since) .{1,40})?$",
          "User is {obj}.", lambda g, c: g["obj"].lower() in _LASTING_STATES),
    # Tastes (a like and a dislike of the same thing share a slot; see _taste).
    _rule("dislike", "taste",
          rf"^I (?:really |truly |absolutely )?(?:dislike|hate|detest|do not like|do not enjoy|"
          rf"cannot stand|am not a fan of|am not a big fan of|am not into|am not big on|loathe|"
          rf"do not care for|cannot bear)\s+{_OBJ}$",
          "User dislikes {obj}.", _not_pronoun),
    _rule("preference", "taste",
          rf"^I (?:really |truly |absolutely |just |always )?(?:like|love|enjoy|adore)\s+{_OBJ}$",
          "User likes {obj}.", _not_pronoun),
    _rule("preference", "taste", rf"^I (?:really |strongly |much |always )?prefer\s+{_OBJ}$",
          "User prefers {obj}.", _not_pronoun),
    _rule("preference", "taste",
          rf"^I am (?:a (?:big |huge |massive )?fan of|(?:really |very )?into|passionate about|"
          rf"obsessed with|crazy about|mad about|a sucker for)\s+{_OBJ}$",
          "User likes {obj}.", _not_pronoun),
    # "I got into climbing this year": a taste taken up ("… and it's my favourite sport now").
    _rule("preference", "taste",
          rf"^I (?:have )?(?:recently |really |just |finally )?(?:got|gotten|been getting) "
          rf"(?:really |very |properly |seriously )?into\s+{_OBJ}$",
          "User likes {obj}.", lambda g, c: _not_pronoun(g, c) and not _got_into_a_place(g["obj"])),
    # Possessions and tools.
    _rule("possession", "car",
          r"^(?:I|we) (?:drive|have been driving|am driving|are driving) "
          r"(?P<obj>(?:a|an|the) .{1,80}?)$",
          "User drives {obj}."),
    # A car by its make: "I sold the Fiesta and bought a Kia Niro".
    _rule("possession", "car",
          rf"^{_I} (?:(?:sold|traded in|got rid of) [^,]{{1,40}}? and )?(?:have )?"
          rf"(?:just |recently )?(?:bought|got|have|have got|own|lease|leased|"
          rf"(?:replaced|swapped|traded in|traded) [^,]{{1,40}}? (?:with|for)|"
          rf"(?:upgraded|switched|changed|moved|downsized|traded up) to) "
          rf"(?P<obj>(?:a|an) (?:new |used |second-hand |secondhand |electric )?"
          rf"{_CAR_MAKE}\b.{{0,40}}?)$",
          "User drives {obj}."),
    _rule("possession", None,
          rf"^{_I} (?P<verb>have|have got|got|own|bought) "
          rf"(?P<obj>{_NUMBER}\s+{_FEW_WORDS}{_POSSESSION}\b.{{0,80}}?)$",
          "User {verb_own} {obj}.", keep_when=True),
    _rule("tool", None,
          rf"^I (?P<adv>(?:mostly |mainly |usually |always |only |primarily )?)use {_OBJ}$",
          "User {adv} uses {obj}.", _not_pronoun),
    _rule("tool", None,
          rf"^I (?P<verb>code|program|write code|develop|build apps|write) in {_OBJ}$",
          "User {verb3} in {obj}."),
    # Who the user is; "I am tired" is not.
    _rule("identity", "job?", rf"^I am (?P<art>an?|the) {_OBJ}$", "User is {art} {obj}.",
          _lasting_identity),
    _rule("attribute", "my {attr}",
          r"^(?:my|our) (?P<attr>[a-z][a-z' -]{1,40}?) (?:(?:has|have) )?(?:now )?(?:been )?"
          r"(?:changed|switched|shifted|moved) to\s+(?P<obj>[^?]{1,120}?)$",
          "User's {attr} is {obj}.", _lasting_attribute),
    _rule("attribute", "my {attr}",
          r"^(?:my|our) (?P<attr>[a-z][a-z' -]{1,40}?)(?: these days| nowadays| at the moment)?"
          r" (?P<cop>is|are|has become|have become)(?: now)?"
          # "my favourite food is definitely butter chicken": how sure, not what
          r"(?: definitely| easily| officially| undoubtedly| hands down)?\s+"
          r"(?P<obj>[^?]{1,120}?)$",
          "User's {attr} {cop} {obj}.", _lasting_attribute),
    _rule("attribute", "my {attr}",
          rf"^(?P<obj>[A-Za-z][\w' -]{{0,40}}?) (?P<cop>{_BECOMES}) "
          rf"(?:definitely |probably |now |officially )?my (?P<attr>{_REVERSED_ATTR})$",
          "User's {attr} {cop_attr} {obj}.", _not_pronoun),
    _rule("identity", None, r"^I am (?P<obj>[A-Za-z][\w-]{2,30})$", "User is {obj}.",
          lambda g, c: g["obj"].lower() not in _TRANSIENT),
    # "I support Rangers now": the team one supports is one at a time, like a favourite team.
    _rule("preference", "my favourite team",
          r"^I (?:now )?support "
          r"(?P<obj>(?:the )?(?-i:[A-Z])[\w'.-]*(?: (?-i:[A-Z])[\w'.-]*){0,3})$",
          "User supports {obj}."),
    # Habits, routines and hobbies: a present-tense verb with a frequency, or a hobby verb.
    _rule("habit", None,
          rf"^{_I} (?P<adv>{_ADVERB} )?(?:just )?(?P<verb>[a-z]+)(?P<obj>(?: .{{1,120}}?)?)$",
          "User {adv} {verb3} {obj}.", _habit, keep_when=True),
]  # fmt: skip

_HABIT_KINDS = {
    "play": "hobby", "speak": "language", "use": "tool", "drive": "possession",
    "own": "possession", "study": "study", "teach": "work", "work": "work",
    "freelance": "work", "eat": "diet", "drink": "diet",
}  # fmt: skip
_STATUS = {"split up": "single", "broke up": "single", "remarried": "married",
           "got remarried": "married", "tied the knot": "married",
           "got hitched": "married"}  # fmt: skip
_NEGATION = {"do not": "doesn't", "never": "never", "no longer": "no longer", "rarely": "rarely",
             "only": "only", "mostly": "mostly", "mainly": "mainly"}  # fmt: skip


def _verb_forms(groups: dict[str, str]) -> dict[str, str]:
    """The verb forms templates use: "teach" → "teaches", "do not eat" → "doesn't eat"."""
    verb = groups.get("verb", "")
    forms = {
        "verb_raw": third_person(verb),
        "verb3": third_person_verb(verb) if verb else "",
        "verb_ing": verb.replace("myself", "themselves"),
        "verb_own": "owns" if verb.lower() == "own" else "has",
        "verb_take": "is on" if verb.lower() == "am on" else "takes",
        # "we broke up" → "is single"; "I remarried" → "is married"
        "verb_status": _STATUS.get(verb.lower(), verb.lower()),
        # "avoid" → "avoids", but "gave up" and "quit" stay; "have given up" → "has given up"
        "verb_diet": third_person_verb(verb)
        if re.match(r"avoid|stay|steer|cut|keep", verb)
        else re.sub(r"^have ", "has ", verb),
    }
    if "neg" in groups:  # "I do not eat pork" → "doesn't eat"; "I never eat" → "never eats"
        neg = _NEGATION[groups["neg"].lower()]
        form = verb if neg == "doesn't" else third_person_verb(verb)
        forms["neg_verb"] = f"{neg} {form}"
    return forms


def _fields(rule: _Rule, groups: dict[str, str]) -> dict[str, str]:
    """The template's fields from a rule's captures: third person, dates dropped."""
    clean = {k: strip_when(v, dates=not rule.keep_when) for k, v in groups.items()}
    fields = {k: third_person(v) for k, v in clean.items()} | _verb_forms(groups)
    fields["name"] = " ".join(w[:1].upper() + w[1:] for w in fields.get("obj", "").split())
    fields["prep_work"] = {"with": "for"}.get(groups.get("prep", ""), groups.get("prep", ""))
    fields.setdefault("deg", "")
    # A husband or wife by name says the user is married; a fiancé(e), engaged.
    fields["bond"] = _bond(groups.get("who", "").lower())
    if "attr" in fields:  # "my new favourite colour" is the favourite colour from now on
        fields["attr"] = re.sub(r"^(?:(?:new|current|present|latest) )+", "", fields["attr"])
        # "Tacos are my favourite food": the attribute decides "is" or "are"
        fields["cop_attr"] = "are" if fields["attr"].endswith("s") else "is"
    return fields


def _bond(who: str) -> str:
    """How a partner's name is said of the user: "Noor is my wife" → " is married to"."""
    if who in ("husband", "wife", "spouse"):
        return " is married to"
    if who.startswith("fianc"):
        return " is engaged to"
    return f"'s {who} is"


def _attr_slot(attr: str) -> str:
    """The slot of "my <attr> is …": one per attribute, however it is spelled."""
    words = [_ATTR_WORDS.get(w, w) for w in attr.lower().split()]
    while len(words) > 1 and words[0] in _ATTR_DROP:
        words = words[1:]
    if words[0] == "tv" and len(words) > 1:  # "favourite TV show" = "favourite show"
        words = words[1:]
    words = ["show" if w in ("series", "programme", "program") else w for w in words]
    canonical = " ".join(_favourite_head(words)).replace("favourite tv", "favourite")
    return _ATTR_SLOTS.get(canonical, "my " + canonical)


def _favourite_head(words: list[str]) -> list[str]:
    """A favourite by its head noun: "favourite sci-fi book" and "favourite book" are one slot.

    So are "favourite football team" and "favourite team", "favourite type of cheese" and
    "favourite cheese". An attribute with a preposition ("favourite thing to do on Sundays")
    is kept whole.
    """
    if words[0] != "favourite" or len(words) < 3:
        return words
    rest = words[1:]
    if len(rest) >= 3 and rest[0] in ("kind", "type", "sort", "style", "genre") and rest[1] == "of":
        rest = rest[2:]
    if any(w in _PREPOSITIONS for w in rest):
        return words
    return ["favourite", rest[-1]]


def _is_occupation(obj: str) -> bool:
    """Whether "a <obj>" names a job: its head noun, before "at …"/"for …", is one.

    Not when judged ("a terrible driver", "a good cook"): that is a trait, not a job.
    """
    head = re.split(r"\s+(?:at|for|in|with|from|on|by)\s+", obj.lower(), maxsplit=1)[0]
    words = re.findall(r"[a-z]+", head)
    if not words or any(w in _JUDGED for w in words[:-1]):
        return False
    return words[-1] in _OCCUPATIONS or bool(re.search(r"(?:ician|ologist|ographer)$", words[-1]))


def _job_title(obj: str) -> bool:
    """Whether ``obj`` names a post: "senior architect", "head of sales", "a manager"."""
    lead = re.split(r"\s+of\s+", obj.lower(), maxsplit=1)[0]
    return _is_occupation(re.sub(r"^(?:a|an) ", "", obj)) or bool(
        re.search(
            r"\b(?:senior|lead|head|chief|principal|partner|vp|director|captain|sergeant|"
            r"lieutenant|associate|team leader|supervisor)\b",
            lead,
        )
    )


def _slot(rule: _Rule, fields: dict[str, str]) -> str | None:
    if rule.slot == "taste":
        # Liking and disliking the same thing contradict: one slot, the later one wins.
        return "taste:" + fields["obj"].lower()
    if rule.slot == "job?":  # "I am a nurse" is a job; "I am a morning person" is not
        return _job_or_employer(fields["obj"]) if _is_occupation(fields["obj"]) else None
    if rule.slot == "job":
        return _job_or_employer(fields["obj"])
    if rule.slot == "study" and _NAMED_SCHOOL.search(fields["obj"]):
        # "studying for a diploma at Seneca College": a change of school replaces it
        return "school"
    if rule.slot and "{attr}" in rule.slot:
        return _attr_slot(fields["attr"])
    return rule.slot


# "an engineer at Spotify" names the employer: "I joined Shopify as an engineer" replaces it.
# "a nurse at a hospital" names none, so it stays the job.
_AT_EMPLOYER = re.compile(r"\s(?:at|for|with) (?:the )?(?-i:[A-Z])")
_NAMED_SCHOOL = re.compile(
    r"\bat (?:the )?(?-i:[A-Z])[^,]{0,50}?\b(?:university|college|school|uni|academy|institute|"
    r"polytechnic)\b|\bat (?:the )?(?-i:(?:University|College|Academy|Institute)) of\b",
    re.I,
)


def _job_or_employer(obj: str) -> str:
    return "work" if _AT_EMPLOYER.search(obj) else "job"


def _kind(rule: _Rule, fields: dict[str, str], slot: str | None) -> str:
    if rule.kind in ("identity", "attribute") and slot in _SLOT_KINDS:
        return _SLOT_KINDS[slot]
    if rule.kind == "habit":
        return _HABIT_KINDS.get(fields.get("verb", "").lower(), "habit")
    if rule.kind == "identity" and fields.get("obj", "").lower() in _DIET_WORDS:
        return "diet"
    return rule.kind


def match(clause: str) -> Match | None:
    """The fact a clause states, or None; a closing date or aside is dropped if it stops a match.

    An aside is what follows a comma: "I just turned 42, feeling ancient", "I transferred to
    Durham University, new city new me".
    """
    found = _match(clause)
    if found is None and (undated := strip_when(clause)) != clause:
        found = _match(undated)
    if found is None and (head := _before_aside(clause)):
        found = match(head)
    return found


def _before_aside(clause: str) -> str | None:
    """The clause before its first comma, when that is a whole statement of its own."""
    head, comma, _ = clause.partition(",")
    return head.strip() if comma and len(head.split()) >= 3 else None


def _match(clause: str) -> Match | None:
    for rule in _RULES:
        m = rule.pattern.match(clause)
        if not m:
            continue
        groups = {k: (v or "").strip() for k, v in m.groupdict().items()}
        if rule.check is not None and not rule.check(groups, clause):
            continue
        if rule.kind != "name" and _ABOUT_THE_CHAT.search(groups.get("obj", "")):
            continue
        fields = _fields(rule, groups)
        if "obj" in groups and groups["obj"] and not fields["obj"]:
            continue  # only a date was captured ("I moved here last year")
        text = re.sub(r"\s+", " ", rule.template.format(**fields)).replace(" .", ".")
        text = re.sub(r"[.!]+\.$", ".", text)
        slot = _slot(rule, fields)
        kind, obj = _kind(rule, fields, slot), fields.get("obj", "")
        return Match(kind, slot, text, obj, _settles(rule, groups, slot))
    return None


def _settles(rule: _Rule, groups: dict[str, str], slot: str | None) -> str | None:
    # A post at a named employer ("a nurse at St Mary's", "joined Shopify as an engineer")
    # is keyed by the employer, and says the job as well: an older "is a nurse" is replaced.
    named_post = rule.slot in ("job", "job?") or bool(groups.get("org"))
    return "job" if slot == "work" and named_post else None


# A new value said against the old one, with nothing naming the attribute: "Actually it's Marta,
# not Martha", "I left Accenture for KPMG", "I switched from chemistry to physics". What the
# attribute is, only the stored memory holding the old value can tell (see extractor.py).
_VALUE = r"(?:(?:my|the|a|an) )?(?P<{}>[\w'&.-]+(?: [\w'&.-]+){{0,3}})"
_REPLACEMENTS = [
    re.compile(p.format(new=_VALUE.format("new"), old=_VALUE.format("old")), re.I)
    for p in (
        r"^(?:it is |it was |that is |I meant |I mean )?{new}(?: now)?,? not {old}(?: any ?more)?$",
        r"^I (?:have )?(?:just |recently )?(?:left|quit) {old} (?:for|to join) {new}$",
        r"^I (?:have )?(?:just |recently )?(?:switched|moved|changed|went|upgraded|transferred|"
        r"converted) (?:over )?from {old} to {new}$",
        r"^I (?:have )?(?:just |recently )?(?:traded|swapped|exchanged|replaced) {old}"
        r"(?: in)? (?:for|with) {new}$",
        r"^I (?:have )?(?:just |recently )?dropped {old} (?:and|to) (?:took|take|picked|pick) "
        r"up {new}$",
    )
]
_NOT_A_VALUE = re.compile(r"^(?:I|you|it|that|this|they|one|me|him|her|them|so|too|very)$", re.I)


def replacement(clause: str) -> tuple[str, str] | None:
    """``(old, new)`` when a clause no rule takes sets a new value against a named old one."""
    for pattern in _REPLACEMENTS:
        if m := pattern.match(clause):
            old, new = strip_when(m["old"]), strip_when(m["new"])
            if (
                old
                and new
                and old.lower() != new.lower()
                and not any(_NOT_A_VALUE.match(v) for v in (old, new))
            ):
                return old, new
    return None
