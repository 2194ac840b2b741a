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
