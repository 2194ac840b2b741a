import pytest

from graphs.memory_manager.offline import extract_facts, fact_key, memory_value
from sdk_client.contract import normalize_payload


def facts(*turns: str, role: str = "user") -> list[str]:
    msgs = normalize_payload({"messages": [{"role": role, "content": t} for t in turns]})
    return [f.text for f in extract_facts(msgs)]


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ("My name is Alice.", "User's name is Alice."),
        ("Call me Al", "User's name is Al."),
        ("I live in Paris.", "User lives in Paris."),
        ("I'm based in Lisbon", "User lives in Lisbon."),
        ("I moved to Berlin last year", "User lives in Berlin."),
        ("I live in Rome now", "User lives in Rome."),
        ("I'm from Canada.", "User is from Canada."),
        ("I work at Acme Corp.", "User works at Acme Corp."),
        ("I work as a nurse", "User works as a nurse."),
        ("I'm 34 years old", "User is 34 years old."),
        ("I love hiking.", "User likes hiking."),
        ("I really enjoy jazz", "User likes jazz."),
        ("I prefer tea over coffee", "User prefers tea over coffee."),
        ("I don't like olives", "User dislikes olives."),
        ("I can't stand loud music", "User dislikes loud music."),
        ("I'm a software engineer.", "User is a software engineer."),
        ("I’m vegetarian", "User is vegetarian."),
        ("My favorite color is green", "User's favorite color is green."),
    ],
)
def test_rules(turn, expected):
    assert facts(turn) == [expected]


@pytest.mark.parametrize(
    "turn",
    ["Do I like olives?", "I'm tired", "I am sorry", "What is my name?", "ok thanks", "I think so"],
)
def test_ignores_questions_and_moods(turn):
    assert facts(turn) == []


def test_only_user_turns_count():
    assert facts("I live in Rome.", role="assistant") == []


def test_several_facts_in_one_turn():
    got = facts("Hi! My name is Bo and I live in Oslo, I love skiing but I hate rain.")
    assert got == [
        "User's name is Bo.",
        "User lives in Oslo.",
        "User likes skiing.",
        "User dislikes rain.",
    ]


def test_a_later_value_of_a_slot_wins_and_repeats_collapse():
    got = facts("I live in Paris.", "I love tea.", "I moved to Berlin.", "I love tea!")
    assert got == ["User lives in Berlin.", "User likes tea."]


def test_a_dislike_replaces_a_like_of_the_same_thing():
    assert facts("I love coffee.", "I hate coffee now.") == ["User dislikes coffee."]
    assert facts("I love tea.", "I don't like tea anymore.") == ["User dislikes tea."]
    msgs = normalize_payload({"messages": [{"role": "user", "content": "I love coffee"}]})
    later = normalize_payload({"messages": [{"role": "user", "content": "I can't stand coffee"}]})
    assert fact_key(("m",), extract_facts(msgs)[0]) == fact_key(("m",), extract_facts(later)[0])


def test_a_post_at_a_named_employer_replaces_the_bare_job_said_before_it():
    assert facts("I'm a nurse.", "I work as a software engineer at Globex.") == [
        "User works as a software engineer at Globex."
    ]
    assert facts("I'm a nurse.", "I just joined Shopify as an engineer.") == [
        "User works at Shopify as an engineer."
    ]
    # An employer alone says nothing of the job; a post at no named employer is the job.
    assert facts("I'm a nurse.", "I work at Globex.") == [
        "User is a nurse.",
        "User works at Globex.",
    ]
    assert facts("I'm a nurse.", "I work as a nurse at a hospital.") == [
        "User works as a nurse at a hospital."
    ]


def test_keys_are_per_slot_or_per_text_and_per_namespace():
    msgs = normalize_payload(
        {"messages": [{"role": "user", "content": "I live in Paris. I love tea."}]}
    )
    home, tea = extract_facts(msgs)
    moved = extract_facts(
        normalize_payload({"messages": [{"role": "user", "content": "I live in Rome"}]})
    )[0]
    assert fact_key(("m",), home) == fact_key(("m",), moved)  # same slot: an update
    assert fact_key(("m",), home) != fact_key(("other",), home)
    assert fact_key(("m",), tea) != fact_key(("m",), home)
    assert memory_value(tea) == {"kind": "Memory", "content": {"content": "User likes tea."}}


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ("Please call me Jo.", ["User's name is Jo."]),
        ("Hi, I'm Sam.", ["User's name is Sam."]),
        ("I was born in Tbilisi.", ["User was born in Tbilisi."]),
        ("I grew up near Cork.", ["User grew up near Cork."]),
        ("We moved to Utrecht last year.", ["User lives in Utrecht."]),
        ("I have two kids, Maya and Leo.", ["User has two kids, Maya and Leo."]),
        ("I have a dog named Rex.", ["User has a dog named Rex."]),
        ("I speak Basque and Italian.", ["User speaks Basque and Italian."]),
        ("I don't eat pork.", ["User doesn't eat pork."]),
        ("I'm allergic to peanuts.", ["User is allergic to peanuts."]),
        ("I'm lactose intolerant.", ["User is lactose intolerant."]),
        ("I can't have gluten.", ["User can't have gluten."]),
        ("I study law at Leiden.", ["User studies law at Leiden."]),
        ("I use Vim for everything.", ["User uses Vim for everything."]),
        ("I usually swim before work.", ["User usually swims before work."]),
        ("I play the cello.", ["User plays the cello."]),
        ("I drive a Volvo.", ["User drives a Volvo."]),
        ("I'm training for a marathon.", ["User is training for a marathon."]),
        ("I retired last year.", ["User is retired."]),
        ("I'm 30 years old now.", ["User is 30 years old."]),
        ("I play with my kids every weekend.", ["User plays with their kids every weekend."]),
        ("I'm vegan, what can I cook tonight?", ["User is vegan."]),
        ("As a nurse, I work nights.", ["User is a nurse.", "User works nights."]),
    ],
)
def test_everyday_facts_in_the_third_person(turn, expected):
    assert facts(turn) == expected


@pytest.mark.parametrize(
    "turn",
    [
        "Can you remind me what my name is?",  # a question
        "Please call me tomorrow about the invoice.",  # a request, not a name
        "Write a poem about my cat.",  # a command
        "Maybe I'll move to Berlin next year.",  # a hedge
        "I think I'm allergic to shellfish.",
        "I might get a dog someday.",
        "I'm so stressed right now.",  # a passing mood
        "I'm a bit tired.",
        "I went to the shop this morning.",  # episodic
        "I have a meeting at 3.",
        "I used to live in Rome.",  # no longer true
        "I love it.",  # about nothing in particular
    ],
)
def test_refuses_what_is_not_a_lasting_fact(turn):
    assert facts(turn) == []


def test_a_newer_age_or_status_replaces_the_older():
    assert facts("I'm 30.", "I'm 31 now.") == ["User is 31 years old."]
    assert facts("I work at Acme.", "I retired last year.") == ["User is retired."]
    assert facts("I'm single.", "I got married in June.") == ["User is married."]
    assert facts("I drive a Golf.", "I drive a Tesla now.") == ["User drives a Tesla."]


def test_new_kinds_fill_profile_properties_by_name():
    from graphs.memory_manager.offline.memory_types import apply_to_profile

    schema = {
        "name": "User",
        "parameters": {
            "type": "object",
            "properties": {
                "languages": {"type": "array", "items": {"type": "string"}},
                "allergies": {"type": "array", "items": {"type": "string"}},
                "pets": {"type": "array", "items": {"type": "string"}},
            },
        },
        "update_mode": "patch",
    }
    msgs = normalize_payload(
        {
            "messages": [
                {
                    "role": "user",
                    "content": "I speak Basque. I'm allergic to peanuts. I have a cat named Tom. "
                    "I play the cello.",
                }
            ]
        }
    )
    doc, rest = apply_to_profile(schema, {}, extract_facts(msgs))
    assert doc == {
        "languages": ["Basque"],
        "allergies": ["peanuts"],
        "pets": ["a cat named Tom"],
    }
    assert [f.text for f in rest] == ["User plays the cello."]
