"""Newer facts replace older ones (issue 27): the offline extractor's slots across phrasings.

A newer value of a single-valued attribute must get the store key of the older one, so
it is an update of the same memory (the graph's commit keeps the old value in history).
The labelled sequences (bench/data/changing_facts.json) are scored by bench.changing_facts;
docs/extraction.md has the blind figures.
"""

from __future__ import annotations

import asyncio

import pytest
from langgraph.store.memory import InMemoryStore

from bench.changing_facts import OUTCOMES, load, memories, outcome, score
from graphs.memory_manager.context import Context
from graphs.memory_manager.offline import extract_facts, extract_offline, fact_key
from sdk_client.contract import normalize_payload

# The dev figure reached (62/62); the held-out parts hold their after-fix figures, which are
# not the blind ones (24/46, 20/40, 42/60 and 36/60 blind, see docs/extraction.md).
# held_out_5's floor is its blind score: its misses have not been worked on.
MIN_LATEST_ONLY = {
    "dev": 1.0, "held_out": 1.0, "held_out_2": 39 / 40, "held_out_3": 1.0, "held_out_4": 1.0,
    "held_out_5": 25 / 60,
}  # fmt: skip


def one(turn: str):
    found = extract_facts(normalize_payload({"messages": [{"role": "user", "content": turn}]}))
    assert len(found) == 1, (turn, [f.text for f in found])
    return found[0]


def key(turn: str) -> str:
    return fact_key(("memories",), one(turn))


@pytest.mark.parametrize(
    ("older", "newer", "stored"),
    [
        # names, in either order and as requests
        ("My name is Greta.", "Leif is my name.", "User's name is Leif."),
        ("My name is Greta.", "Ana is what I am called.", "User's name is Ana."),
        ("I'm Oskar.", "My name has changed to Lu.", "User's name is Lu."),
        ("I'm Oskar.", "My name has been changed to Anjali.", "User's name is Anjali."),
        ("Call me Jo.", "Refer to me as Tam.", "User's name is Tam."),
        ("Call me Jo.", "Start calling me by my name which is Ana.", "User's name is Ana."),
        ("Call me Jo.", "Please address me as Kenzie from now on.", "User's name is Kenzie."),
        ("Call me Dom.", "I'd rather you called me Dominic.", "User's name is Dominic."),
        ("My name is Bo.", "I'm now called Bruno.", "User's name is Bruno."),
        ("My name is Bo.", "I changed my name to Freya.", "User's name is Freya."),
        ("My name is Bo.", "I've changed my name; it's Achieng now.", "User's name is Achieng."),
        ("My name is Bo.", "My name's actually Mira, that was a typo.", "User's name is Mira."),
        ("I go by Liz.", "I'd rather go by Eliza these days.", "User's name is Eliza."),
        # favourites, whatever the spelling and the order
        ("My favorite color is teal.", "My favourite colour is mustard now.", None),
        ("Purple is my favorite color.", "My new favourite colour is indigo.", None),
        ("My favourite colour is teal.", "Lime green is now my favourite colour.", None),
        ("My favourite dish is moussaka.", "My favourite dish has changed to pho.", None),
        ("My favourite movie is Heat.", "My favourite film is Paddington 2 now.", None),
        ("My favourite author is Woolf.", "My favourite author these days is Butler.", None),
        ("My favourite food is paella.", "Biryani has become my favourite food.", None),
        # home
        ("I live in Porto.", "I moved to Rotterdam last month.", "User lives in Rotterdam."),
        ("I live in Porto.", "I've just moved to Calgary.", "User lives in Calgary."),
        ("I live in Porto.", "I recently relocated to Seville.", "User lives in Seville."),
        ("I live in Porto.", "I've moved from Porto to Regina.", "User lives in Regina."),
        ("I live in Porto.", "My new home is in Boise.", "User lives in Boise."),
        (
            "I live in a small flat in Ghent.",
            "We just moved into a house in Antwerp.",
            "User lives in a house in Antwerp.",
        ),
        # work: the employer and the job are two slots
        ("I work at Siemens.", "My new employer is Nestlé.", None),
        ("I work at Siemens.", "I left the council and joined Deloitte.", None),
        ("I work at Siemens.", "I got hired by Aldi.", "User works at Aldi."),
        ("I work as a paralegal.", "I'm a solicitor now.", "User is a solicitor."),
        ("I'm a nurse.", "I work as a midwife now.", "User works as a midwife."),
        ("I'm a barista.", "I became a pastry chef.", "User is a pastry chef."),
        ("I'm an accountant.", "I retrained as a plumber.", "User is a plumber."),
        ("My job is bus driver.", "My job is now train conductor.", None),
        ("I'm a junior architect.", "I got promoted to senior architect.", None),
        # relationship, age, car, study
        ("I'm single.", "I got engaged last weekend!", "User is engaged."),
        ("I'm in a relationship.", "We broke up.", "User is single."),
        ("I'm divorced.", "I remarried last year.", "User is married."),
        ("I'm single.", "I have a boyfriend now.", "User has a boyfriend."),
        ("I'm 29.", "I turned 30 yesterday!", "User is 30 years old."),
        ("I'm 17.", "I'm eighteen now.", "User is eighteen years old."),
        ("I'm 38.", "I'm 39 as of today.", "User is 39 years old."),
        ("I'm 60.", "I'm 61 now, time flies.", "User is 61 years old."),
        ("I drive a Ford Fiesta.", "I sold the Fiesta and bought a Kia Niro.", None),
        ("I drive a Nissan Leaf.", "My car is a Skoda Octavia now.", None),
        ("I study chemistry.", "I switched my major to economics.", "User studies economics."),
        ("I major in biology.", "My major is now computer science.", None),
        ("I go to Leeds University.", "I transferred to Durham University.", None),
    ],
)
def test_a_newer_value_has_the_key_of_the_older(older, newer, stored):
    assert key(older) == key(newer)
    if stored is not None:
        assert one(newer).text == stored


# Phrasing classes added after the two held-out rounds, each tried on phrasings written for
# these tests (not taken from the labelled set): older turn, newer turn, newer and older value.
@pytest.mark.parametrize(
    ("older", "newer", "new", "old"),
    [
        # a name asked for as a question, a wish, or with "go by" in any tense
        ("My name is Jason.", "Could you call me Jay from now on?", "Jay", "Jason"),
        ("Call me Jason.", "Can you call me Jay instead?", "Jay", "Jason"),
        ("My name is Jason.", "I want to be called Jay.", "Jay", "Jason"),
        ("Call me Jason.", "I'd rather be called Jay.", "Jay", "Jason"),
        ("My name is Jason.", "You can just call me Jay.", "Jay", "Jason"),
        ("My name is Jason.", "I'm going by Jay now.", "Jay", "Jason"),
        ("My name is Jason.", "I prefer to go by Jay.", "Jay", "Jason"),
        ("My name is Jason.", "I prefer being called Jay.", "Jay", "Jason"),
        ("My name is Jason.", "I'd prefer Jay, actually.", "Jay", "Jason"),
        ("My name is Jason.", "Please use the name Jay.", "Jay", "Jason"),
        ("My name is Jason.", "My first name is Jay now.", "Jay", "Jason"),
        # a name said with a dropped "my", a greeting, or an "'s"
        ("My name is Jason.", "Name's Jay now.", "Jay", "Jason"),
        ("My name is Jason.", "Jay's my name now.", "Jay", "Jason"),
        ("I'm Jason.", "Hi, Jay here.", "Jay", "Jason"),
        ("Hi, I'm Jason!", "Hey, it's Jay.", "Jay", "Jason"),
        # "it" after the turn retired the old value
        ("Call me Jason.", "Stop calling me Jason, it's Jay now.", "Jay", "Jason"),
        ("My name is Jason.", "My name is no longer Jason, it's Jay.", "Jay", "Jason"),
        ("My name is Ines.", "My name isn't Ines anymore, it's Inez.", "Inez", "Ines"),
        (
            "My favourite colour is teal.",
            "My favourite colour used to be teal, but now it's mustard.",
            "mustard",
            "teal",
        ),
        (
            "My favourite band is Blur.",
            "My favourite band is not Blur any more, it's Wet Leg.",
            "Wet Leg",
            "Blur",
        ),
        # a correction: "X, not Y", "X instead of Y"
        ("My name is Jason.", "My name's Jay, not Jason.", "Jay", "Jason"),
        ("I live in Porto.", "Actually I live in Lisbon, not Porto.", "Lisbon", "Porto"),
        ("I work at Accenture.", "Actually I work at KPMG, not Accenture.", "KPMG", "Accenture"),
        ("I'm a teacher.", "I'm a librarian, not a teacher.", "librarian", "teacher"),
        (
            "My favourite colour is teal.",
            "My favourite colour is mustard, not teal.",
            "mustard",
            "teal",
        ),
        ("I'm 29.", "I'm actually 30, not 29.", "30", "29"),
        # corrections and news that only frame the fact
        ("My name is Jason.", "Sorry, I meant my name is Jay.", "Jay", "Jason"),
        ("My name is Jason.", "Correction: my name is Jay.", "Jay", "Jason"),
        (
            "My favourite colour is teal.",
            "I've decided my favourite colour is mustard.",
            "mustard",
            "teal",
        ),
        (
            "My favourite colour is teal.",
            "These days I'd say mustard is my favourite colour.",
            "mustard",
            "teal",
        ),
        # favourites: said without "my", "right now", with "it", by head noun, newly found
        ("My favourite colour is teal.", "Favourite colour is mustard now.", "mustard", "teal"),
        (
            "My favourite colour is teal.",
            "Right now my favourite colour is mustard.",
            "mustard",
            "teal",
        ),
        (
            "My favourite colour is teal.",
            "Teal isn't my favourite colour anymore, mustard is.",
            "mustard",
            "teal",
        ),
        (
            "My favourite colour is teal.",
            "I've got a new favourite colour: mustard.",
            "mustard",
            "teal",
        ),
        (
            "My favourite colour is teal.",
            "Mustard has replaced teal as my favourite colour.",
            "mustard",
            "teal",
        ),
        (
            "My favourite colour is teal.",
            "My favourite colour changed to mustard.",
            "mustard",
            "teal",
        ),
        (
            "My favourite season is summer.",
            "My favourite season has become winter.",
            "winter",
            "summer",
        ),
        ("My favourite drink is tea.", "Coffee's my favourite drink now.", "coffee", "tea"),
        (
            "My favourite food is pizza.",
            "I'm really into sushi now, it's my favourite food.",
            "sushi",
            "pizza",
        ),
        (
            "My favourite band is Blur.",
            "I'm obsessed with Wet Leg now, they're my favourite band.",
            "Wet Leg",
            "Blur",
        ),
        (
            "My favourite sci-fi book is Dune.",
            "My favourite book is Hyperion now.",
            "Hyperion",
            "Dune",
        ),
        (
            "My favourite board game is Catan.",
            "Wingspan is my favourite game these days.",
            "Wingspan",
            "Catan",
        ),
        (
            "My favourite type of cheese is brie.",
            "Halloumi is my favourite cheese now.",
            "halloumi",
            "brie",
        ),
        ("My favourite team is Leeds.", "I support Arsenal now.", "Arsenal", "Leeds"),
        # home: said without "I", as "home", as "I'm in X" in a turn about moving
        ("I live in Porto.", "Just moved to Lisbon!", "Lisbon", "Porto"),
        ("I live in Porto.", "Moved to Lisbon last month.", "Lisbon", "Porto"),
        ("I live in Porto.", "I now call Lisbon home.", "Lisbon", "Porto"),
        ("I live in Porto.", "Lisbon is home now.", "Lisbon", "Porto"),
        ("I live in Porto.", "Home is Lisbon now.", "Lisbon", "Porto"),
        ("I live in Porto.", "Lisbon's where I live now.", "Lisbon", "Porto"),
        ("I live in Porto.", "I'm a Lisbon resident now.", "Lisbon", "Porto"),
        ("I live in Porto.", "We made the move to Lisbon in March.", "Lisbon", "Porto"),
        ("I live in Porto.", "I ended up moving to Lisbon.", "Lisbon", "Porto"),
        ("I live in Porto.", "I left Porto and moved to Lisbon.", "Lisbon", "Porto"),
        (
            "I live in Porto.",
            "I don't live in Porto anymore. I'm in Lisbon now.",
            "Lisbon",
            "Porto",
        ),
        ("I live in Porto.", "I've moved out of Porto; I'm in Lisbon now.", "Lisbon", "Porto"),
        # work: "I'm at X now", "I'm with X" in a turn about work, and other ways in
        ("I work at Accenture.", "I'm at KPMG now.", "KPMG", "Accenture"),
        (
            "I work at Accenture.",
            "I no longer work at Accenture, I'm at KPMG.",
            "KPMG",
            "Accenture",
        ),
        ("I work at Accenture.", "I changed jobs, I'm at KPMG now.", "KPMG", "Accenture"),
        ("I work at Accenture.", "I quit Accenture and I'm with KPMG now.", "KPMG", "Accenture"),
        ("I work at Accenture.", "I left Accenture and now work at KPMG.", "KPMG", "Accenture"),
        ("I work at Accenture.", "I started at KPMG last week.", "KPMG", "Accenture"),
        ("I work at Accenture.", "I accepted an offer from KPMG.", "KPMG", "Accenture"),
        ("I work at Accenture.", "KPMG is my new employer.", "KPMG", "Accenture"),
        ("I work at Accenture.", "Got a job at KPMG!", "KPMG", "Accenture"),
        ("I'm a teacher.", "I changed careers and became a librarian.", "librarian", "teacher"),
        # relationship, age, car, study
        ("I'm single.", "I'm dating someone now.", "dating", "single"),
        ("I'm single.", "Got married last month!", "married", "single"),
        ("I'm 29.", "Just turned 30!", "30", "29"),
        ("I'm 29.", "Had my 30th birthday last week.", "30", "29"),
        ("I drive a Honda Civic.", "I upgraded to a Mazda 3.", "Mazda 3", "Honda Civic"),
        ("I drive a Honda Civic.", "I switched to a Mazda 3.", "Mazda 3", "Honda Civic"),
        ("I drive a Honda Civic.", "I'm driving a Mazda 3 these days.", "Mazda 3", "Honda Civic"),
        ("I drive a Honda Civic.", "My car's a Mazda 3 now.", "Mazda 3", "Honda Civic"),
        ("I study chemistry.", "I've switched to physics.", "physics", "chemistry"),
        ("I study chemistry.", "I switched from chemistry to physics.", "physics", "chemistry"),
        ("I study chemistry.", "I'm a physics major now.", "physics", "chemistry"),
        ("I study chemistry.", "I'm doing physics now.", "physics", "chemistry"),
        # lower case, and a value in a turn with other content
        ("my name is jonas", "call me jo from now on", "jo", "jonas"),
        ("I live in Porto.", "i moved to lisbon", "lisbon", "Porto"),
        ("I work at Accenture.", "i work at kpmg now", "kpmg", "Accenture"),
        ("I'm in a relationship.", "i'm single now", "single", "in a relationship"),
        (
            "My favourite food is pizza.",
            "Thanks. By the way my favourite food is sushi now.",
            "sushi",
            "pizza",
        ),
        (
            "I live in Porto.",
            "Thanks! Also, I moved to Lisbon, so I'm in a new time zone.",
            "Lisbon",
            "Porto",
        ),
        # the new value said against the old one, the attribute only in the stored memory
        ("My name is Martha.", "Actually it's Marta, not Martha.", "Marta", "Martha"),
        ("My favourite colour is teal.", "Actually it's mustard, not teal.", "mustard", "teal"),
        ("I work at Accenture.", "I left Accenture for KPMG.", "KPMG", "Accenture"),
        (
            "My favourite podcast is Radiolab.",
            "I switched from Radiolab to Hard Fork.",
            "Hard Fork",
            "Radiolab",
        ),
        ("I study chemistry.", "I dropped chemistry and took up physics.", "physics", "chemistry"),
        ("I have a dog named Rex.", "No, it's Max, not Rex.", "Max", "Rex"),
        # After held_out_3 (scored blind first): phrasings written for these tests, one class
        # per group; 33 of them failed before the fixes.
        # a name change with "its", a name said to be one with "use", names ending in "-an"
        ("My name is Bo.", "I updated my name, its Freya now.", "Freya", "Bo"),
        ("Call me Jo.", "Please use Joanna, my full name.", "Joanna", "Jo"),
        ("Call me Jo.", "Just use my real name, Joanna.", "Joanna", "Jo"),
        ("I'm Ethan.", "My name is Evan, not Ethan.", "Evan", "Ethan"),
        ("I'm Ryan.", "I'm Rhys now.", "Rhys", "Ryan"),
        # moving again; where the flat is; an aside with its own subject after the town
        ("I live in Porto.", "I've moved yet again, this time to Faro.", "Faro", "Porto"),
        ("I live in Porto.", "We relocated once more, to Faro.", "Faro", "Porto"),
        ("I live in Porto.", "Our flat is in Braga now.", "Braga", "Porto"),
        ("My house is near Leeds.", "I live in York.", "York", "Leeds"),
        ("I live in Porto.", "I live in Braga, the commute was too long before.", "Braga", "Porto"),
        # a favourite said as a like and "it": the like does not outlive the favourite
        (
            "I love teal, it's my favourite colour.",
            "My favourite colour is mustard now.",
            "mustard",
            "teal",
        ),
        (
            "I adore ramen, it's my favorite food.",
            "Pho is my favourite food these days.",
            "pho",
            "ramen",
        ),
        # "fav"/"fave" before a noun that is otherwise chatter ("my food is …")
        ("My fav drink is tea.", "fav drink is coffee now", "coffee", "tea"),
        ("fave food is ramen", "Fave food is pho these days.", "pho", "ramen"),
        # "now," closes the value; more occupations
        ("I work as a cook.", "I'm a plumber now, passed my exams at last.", "plumber", "cook"),
        ("I'm a receptionist.", "I'm a dental hygienist these days.", "hygienist", "receptionist"),
        # an aside after a comma; a change said with the day it happened
        ("I'm 29.", "Turned 30 last week, the kids baked a cake.", "30", "29"),
        ("I'm 29.", "I just turned 30 today, feeling old.", "30", "29"),
        ("I'm 29.", "I'm 30 now.", "30", "29"),
        ("I work at Accenture.", "I started a new job at KPMG yesterday.", "KPMG", "Accenture"),
        (
            "I work at Accenture.",
            "got a job at kpmg this week, so far so good",
            "kpmg",
            "Accenture",
        ),
        ("I'm engaged to Sam.", "We got married last night!", "married", "engaged"),
        ("I live in Porto.", "We moved to Faro on Friday, new flat new life", "Faro", "Porto"),
        # a job at a named employer is the employer
        ("I'm a designer at Figma.", "I work at Canva now.", "Canva", "Figma"),
        ("I work for Spotify.", "I just joined Klarna as a data analyst.", "Klarna", "Spotify"),
        ("I'm an analyst at Klarna.", "I've joined Monzo as an analyst.", "Monzo", "Klarna"),
        # relationship: one slot for single, dating, a partner by name, engaged, married
        ("I'm single.", "I've been seeing someone, his name is Ali.", "Ali", "single"),
        ("My girlfriend is Ana.", "We broke up. I'm dating someone new called Bea.", "Bea", "Ana"),
        ("I'm engaged to Sam.", "Sam is my husband now.", "married", "engaged"),
        ("I'm single.", "Jordan is my girlfriend now.", "Jordan", "single"),
        ("My boyfriend's name is Leo.", "My partner is Max.", "Max", "Leo"),
        # study: a degree by its subject, "my <degree> is in …", a school named with the course
        ("I'm doing a history degree.", "I'm studying geology now.", "geology", "history"),
        ("I'm doing an MA in French.", "My MA is in Spanish now.", "Spanish", "French"),
        ("I'm taking a nursing diploma.", "My course is in midwifery now.", "midwifery", "nursing"),
        (
            "I'm studying for a law degree at Kingston University.",
            "I transferred to Brunel University.",
            "Brunel",
            "Kingston",
        ),
        (
            "I go to Bath College.",
            "Transferred to Exeter College this semester, loving it.",
            "Exeter",
            "Bath",
        ),
    ],
)
def test_a_phrasing_class_replaces_the_older_value(older, newer, new, old):
    held = memories([older, "What's the time in Tokyo?", newer])
    assert outcome(held, new, [old]) == "latest_only", held


# Round 5: phrasing families found in held_out_4's misses, each tried on phrasings written for
# these tests (42 pairs, 37 of which failed before the fixes): older turn, newer turn, newer and
# older value.
@pytest.mark.parametrize(
    ("older", "newer", "new", "old"),
    [
        # name told to be known, a new surname, a name to use
        ("I'm Minjun.", "Please know that my name is Daniel now.", "Daniel", "Minjun"),
        (
            "My name is Ana Silva.",
            "I took my husband's name when we married, I'm Ana Costa now.",
            "Ana Costa",
            "Silva",
        ),
        (
            "my name is lucia ferreira",
            "changed my surname after the wedding, i'm lucia ward now",
            "lucia ward",
            "ferreira",
        ),
        (
            "Everyone calls me Bee.",
            "I've dropped the nickname. Please use Beatrix.",
            "Beatrix",
            "Bee",
        ),
        (
            "Call me Rob.",
            "Rob was my school nickname, just stick with Robert from now on.",
            "Robert",
            "Rob",
        ),
        # moves with an adverbial
        ("I live in Perth.", "We relocated overseas to Oslo.", "Oslo", "Perth"),
        ("I live in Perth.", "I moved halfway across the world to Lima.", "Lima", "Perth"),
        ("I live in Perth.", "I've moved interstate to Adelaide.", "Adelaide", "Perth"),
        # favourite headings
        (
            "My favourite colour is orange.",
            "Favourite colour update: it's teal now.",
            "teal",
            "orange",
        ),
        ("My favourite book is Emma.", "New favourite book: Middlemarch.", "Middlemarch", "Emma"),
        ("My favourite band is Blur.", "current fave band - Wet Leg", "Wet Leg", "Blur"),
        # what took the place
        (
            "My favourite film is Jaws.",
            "Heat overtook it, it's my favourite film now.",
            "Heat",
            "Jaws",
        ),
        (
            "My favourite film is Jaws.",
            "Alien has dethroned Jaws as my favourite film.",
            "Alien",
            "Jaws",
        ),
        (
            "My favourite snack is crisps.",
            "Popcorn replaced them - they're my favourite snack now.",
            "Popcorn",
            "crisps",
        ),
        # the kind of thing and a bare favourite
        (
            "I love the colour orange, it's my favourite.",
            "My favourite colour is green now.",
            "green",
            "orange",
        ),
        (
            "My favourite sport is tennis.",
            "I love the sport padel, it's my favourite.",
            "padel",
            "tennis",
        ),
        (
            "My favourite food is paella.",
            "Actually my favourite is ramen these days.",
            "ramen",
            "paella",
        ),
        (
            "My favourite colour has always been red.",
            "I realised I like lilac most now, it's my new favourite colour.",
            "lilac",
            "red",
        ),
        (
            "My favourite colour is red.",
            "Decorating the nursery made me realise I like sage most - it's my favourite colour now.",
            "sage",
            "red",
        ),
        (
            "My favourite food is lasagne.",
            "After my trip to Japan my favourite food is easily ramen.",
            "ramen",
            "lasagne",
        ),
        (
            "My favourite sport is tennis.",
            "I got really into climbing and it's my favourite sport by far.",
            "climbing",
            "tennis",
        ),
        # employer
        ("I'm employed by Deloitte.", "Yesterday was my first day at KPMG.", "KPMG", "Deloitte"),
        ("I work at Deloitte.", "Today was my first day with EY!", "EY", "Deloitte"),
        (
            "I work for a startup called Brightloop.",
            "Our startup was acquired by Salesforce.",
            "Salesforce",
            "Brightloop",
        ),
        ("I work at Spotify.", "I'm officially employed by Klarna.", "Klarna", "Spotify"),
        (
            "I work at Spotify as an engineer.",
            "Still an engineer, but I went over to Klarna.",
            "Klarna",
            "Spotify",
        ),
        ("My employer is the BBC.", "I got headhunted by Netflix.", "Netflix", "BBC"),
        ("My employer is the BBC.", "I jumped ship to Sky.", "Sky", "BBC"),
        # job
        (
            "I'm a junior architect.",
            "They promoted me to lead architect.",
            "lead architect",
            "junior architect",
        ),
        (
            "I'm a junior architect.",
            "I was made senior architect.",
            "senior architect",
            "junior architect",
        ),
        ("I'm an associate lawyer.", "My firm made me a partner!", "partner", "associate"),
        # relationship
        ("I'm single.", "I'm seeing someone - his name is Theo.", "Theo", "single"),
        ("I'm single.", "I've been dating a girl; she's called Mia.", "Mia", "single"),
        (
            "My girlfriend is called Ana.",
            "We split up. I'm seeing a woman named Zoe now and it's lovely.",
            "Zoe",
            "Ana",
        ),
        # age
        ("I'm seventeen.", "It's my birthday! Eighteen at last.", "eighteen", "seventeen"),
        ("I'm 29.", "It's my 30th birthday today!", "30", "29"),
        ("I'm 29.", "its my birthday, I'm 30", "30", "29"),
        # study
        (
            "I study at the University of Toronto.",
            "I transferred to McGill for my second year of the degree.",
            "McGill",
            "Toronto",
        ),
        (
            "I'm enrolled at Sciences Po.",
            "I'm at LSE now, doing my master's.",
            "LSE",
            "Sciences Po",
        ),
        (
            "I'm doing a master's in economics.",
            "I've enrolled in a PhD in statistics.",
            "statistics",
            "economics",
        ),
        (
            "I'm a second-year history student at Leeds University.",
            "I switched my major to politics.",
            "politics",
            "history",
        ),
        (
            "I'm a first-year nursing student.",
            "My degree is now in midwifery.",
            "midwifery",
            "nursing",
        ),
    ],
)
def test_a_round_5_phrasing_family_replaces_the_older_value(older, newer, new, old):
    held = memories([older, "What's the time in Tokyo?", newer])
    assert outcome(held, new, [old]) == "latest_only", held


@pytest.mark.parametrize(
    "turn",
    [
        # "use X" is a name only in a turn about names; "moved over to X" an employer only in
        # one about work; "transferred to X" a school only in one about studies
        "What's a good name for my dog? Please use something short.",
        "I transferred to Berlin.",
        "I transferred money to my savings.",
        "I changed my name. I am so happy now.",
        # a birthday, a first day, "made me", "got into": only with an age, an employer, a post,
        # a taste
        "It's my birthday, five friends are coming.",
        "Today was my first day at the gym.",
        "They made me a cup of tea.",
        "They made me wait for an hour.",
        "I was made redundant.",
        "I got into trouble at school.",
        "I got into the car.",
        "I got into Oxford!",
        # a heading or "X overtook it" only with a value and a favourite
        "My favourite colour: what would you pick?",
        "Favourite film - any ideas?",
        "The rain overtook us, it was awful.",
        "Reading that made me realise I am tired.",
        "Our team got acquired by surprise.",
        "We moved house to a bigger place.",
        "Since the pandemic my job is remote.",
    ],
)
def test_round_5_families_do_not_take_chatter(turn):
    found = extract_facts(normalize_payload({"messages": [{"role": "user", "content": turn}]}))
    assert [f for f in found if f.slot] == [], [f.text for f in found]


def test_a_bare_favourite_is_the_one_favourite_held():
    # "my favourite is now X" names the one kind of favourite the memories hold
    held = memories(["My favourite food is paella.", "Scratch that, my favourite is now pho."])
    assert held == ["User's favourite food is pho."]
    # with two kinds held, which one it means is a guess: neither changes
    held = memories(
        ["My favourite food is paella.", "My favourite film is Heat.", "My favourite is now pho."]
    )
    assert "User's favourite food is paella." in held and "User's favourite film is Heat." in held


@pytest.mark.parametrize(
    "turn",
    [
        "I'd like to be called back.",  # the "would" of a wish for a name only, not of a callback
        "I'd rather you call me tomorrow.",
        "It's fine, I updated my name.",
        "My employer is great.",  # judges the employer, names none
        "My job is killing me.",
        "I left the party early and joined Sam at the bar.",
        "I joined Reddit.",
        "I have a seat.",  # a make only with its capital: "a Seat"
        "I got promoted to the top of the waitlist.",
        "I'm in Paris now.",  # a visit as much as a move
        "I'm 30 minutes late today.",
        "I'm at the gym now.",  # "at X" is an employer only when X is named
        "I'm with Sam now.",  # "with X" is one only in a turn about work
        "Hey, it's raining.",
        "I'm seeing a therapist.",
        "Could you call me back?",
        "Could you call me a taxi?",
        "I'd prefer Tuesday.",
        "I quit Facebook.",
        "Got it, thanks.",
        "Switched to dark mode.",
        "Home is where the heart is.",
        "Work is home now.",
        "My job is fine, it's busy.",  # "it" is a new value only after the old one is retired
        "My favourite colour right now? Hard to say.",
        "Sorry, I meant the second one.",
        "I do not understand.",  # "not" ends a value only after a comma: "Lisbon, not Porto"
        # a change said with its day is a fact; a moment said with its day is not
        "I got a haircut this morning.",
        "I started a new book today.",
        "I moved the sofa today.",
        "I turned the oven off this morning.",
        "I left my keys at work today.",
        "I'm tired now, long day.",
        "My degree is almost done.",  # a degree names a subject only "in …"
        "My course is great.",
        "I joined Reddit as a lurker.",  # "joined X as" names an employer only with a post
        "I moved, to be honest.",
        "Please use Python.",  # "use X" is a name only said to be one
        "Please use bullet points, my boss likes them.",
    ],
)
def test_new_phrasings_do_not_take_chatter(turn):
    found = extract_facts(normalize_payload({"messages": [{"role": "user", "content": turn}]}))
    assert found == []


@pytest.mark.parametrize(
    ("job", "not_a_job"),
    [("I'm a nurse.", "I'm a terrible driver."), ("I'm a teacher.", "I'm a morning person.")],
)
def test_a_trait_is_not_a_new_job(job, not_a_job):
    assert one(job).slot == "job"
    assert one(not_a_job).slot is None


def test_a_job_at_a_named_employer_is_the_employer():
    assert one("I'm an engineer at Spotify.").slot == "work"
    assert one("I work as a nurse at St Mary's.").slot == "work"
    assert one("I'm a software engineer at a fintech startup.").slot == "job"


def test_a_partner_by_name_is_the_relationship_a_description_is_not():
    assert one("My boyfriend is Tomas.").slot == "relationship"
    assert one("Noor is my wife.").text == "User is married to Noor."
    assert one("My wife is Italian.").slot != "relationship"
    assert one("My partner is Catholic.").slot != "relationship"


def test_a_course_at_a_named_school_is_the_school():
    assert key("I'm studying for a nursing diploma at Seneca College.") == key(
        "I'm at Humber College."
    )
    assert one("I'm studying chemistry at university.").slot == "study"


def test_employer_and_job_are_separate_slots():
    assert key("I work at Acme.") != key("I work as a nurse.")
    assert key("I work at Acme.") == key("I retired last year.")


def test_a_restatement_in_another_spelling_does_not_rewrite_the_memory():
    async def run() -> list[str]:
        store = InMemoryStore()
        context = Context(model=None, namespace=["m"], schemas=None)
        for turn in ("My favorite color is green.", "My favourite colour is green."):
            msgs = normalize_payload({"messages": [{"role": "user", "content": turn}]})
            batch = {"namespace": ["m"], "messages": msgs, "submission_ids": ["s"]}
            await extract_offline(context, batch, store)  # type: ignore[arg-type]
        return [i.value["content"]["content"] for i in await store.asearch(("m",))]

    assert asyncio.run(run()) == ["User's favorite color is green."]


def test_the_set_is_big_enough_to_mean_something():
    data = load()
    seqs = data["dev"] + data["held_out"] + data["held_out_2"]
    assert len(seqs) >= 80
    assert len({s["attribute"] for s in seqs}) >= 10
    assert len({s["id"] for s in seqs}) == len(seqs)
    for s in seqs:
        assert len(s["turns"]) >= 2 and s["older"] and s["expect"] not in s["older"], s["id"]


def test_outcomes_and_memories_carry_over_turns():
    held = memories(["I live in Paris.", "What's the weather?", "I moved to Berlin."])
    assert held == ["User lives in Berlin."]
    assert outcome(held, "Berlin", ["Paris"]) == "latest_only"
    assert outcome(["User lives in Paris.", "User's home is Berlin."], "berlin", ["Paris"]) == (
        "stale"
    )
    assert outcome(["User lives in Paris."], "Berlin", ["Paris"]) == "missing"
    seq = {"id": "x", "attribute": "home", "turns": ["I live in Oslo."], "expect": "Rome"}
    result = score([{**seq, "older": ["Oslo"]}])
    assert result.total["missing"] == 1 and "x home missing" in result.misses[0]
    assert set(result.rows()[-1]) >= set(OUTCOMES)


@pytest.mark.parametrize("part", sorted(MIN_LATEST_ONLY))
def test_latest_value_only(part):
    result = score(load()[part])
    misses = "\n".join(["not latest only:", *result.misses])
    assert result.latest_only_rate >= MIN_LATEST_ONLY[part] - 1e-9, (
        f"{part}: {result.total['latest_only']}/{result.sequences} latest only\n{misses}"
    )


def test_a_correction_changes_only_the_one_memory_holding_the_old_value():
    # two memories hold "Paris": which one "Rome" corrects is a guess, so neither changes
    held = memories(["I live in Paris.", "My favourite city is Paris.", "It's Rome, not Paris."])
    assert held == ["User lives in Paris.", "User's favourite city is Paris."]
    # nothing holds "the first": the correction is about the conversation, nothing is stored
    assert memories(["I live in Paris.", "It's the second one, not the first."]) == [
        "User lives in Paris."
    ]
    # the memory keeps its key, so the change is an update of it
    assert memories(["I play the cello.", "I traded the cello for a viola."]) == [
        "User plays the viola."
    ]
