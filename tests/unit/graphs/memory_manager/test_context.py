"""Configuration precedence: run/assistant value > env > default, and typed env parsing."""

import dataclasses
import re

import pytest

from graphs.memory_manager.context import DEFAULT_NAMESPACE, Context
from sdk_client.errors import InvalidPayloadError


def test_defaults_without_env():
    ctx = Context()
    assert ctx.model is None
    assert tuple(ctx.namespace) == DEFAULT_NAMESPACE
    assert (ctx.enable_inserts, ctx.enable_deletes, ctx.query_limit) == (True, False, 5)
    assert ctx.schemas is None
    assert ctx.dedup_threshold == 0.85


def test_env_supplies_defaults_with_types(monkeypatch):
    monkeypatch.setenv("MEMORY_MODEL", "openai:gpt-4.1-mini")
    monkeypatch.setenv("MEMORY_NAMESPACE", "memories, {user_id}")
    monkeypatch.setenv("MEMORY_ENABLE_DELETES", "yes")
    monkeypatch.setenv("MEMORY_ENABLE_INSERTS", "0")
    monkeypatch.setenv("MEMORY_QUERY_LIMIT", "12")
    monkeypatch.setenv("MEMORY_DEDUP_THRESHOLD", "0.9")
    monkeypatch.setenv("MEMORY_SCHEMAS", '[{"name": "Pref", "parameters": {"type": "object"}}]')
    ctx = Context()
    assert ctx.model == "openai:gpt-4.1-mini"
    assert ctx.namespace == ["memories", "{user_id}"]
    assert (ctx.enable_inserts, ctx.enable_deletes, ctx.query_limit) == (False, True, 12)
    assert ctx.dedup_threshold == 0.9
    assert ctx.schemas == [
        {"name": "Pref", "parameters": {"type": "object"}, "update_mode": "insert"}
    ]


def test_explicit_values_beat_env_even_when_falsy(monkeypatch):
    monkeypatch.setenv("MEMORY_ENABLE_INSERTS", "true")
    monkeypatch.setenv("MEMORY_QUERY_LIMIT", "9")
    monkeypatch.setenv("MEMORY_MODEL", "openai:gpt-4.1-mini")
    monkeypatch.setenv("MEMORY_NAMESPACE", '["from", "env"]')
    ctx = Context(enable_inserts=False, query_limit=1, model=None, namespace=["run"])
    assert (ctx.enable_inserts, ctx.query_limit, ctx.model, ctx.namespace) == (
        False,
        1,
        None,
        ["run"],
    )


def test_empty_model_means_offline(monkeypatch):
    monkeypatch.setenv("MEMORY_MODEL", "")
    assert Context().model is None
    assert Context(model="").model is None


@pytest.mark.parametrize(
    ("var", "raw", "message"),
    [
        ("MEMORY_ENABLE_DELETES", "maybe", "MEMORY_ENABLE_DELETES='maybe': expected true/false"),
        ("MEMORY_QUERY_LIMIT", "many", "MEMORY_QUERY_LIMIT='many': expected an integer"),
        ("MEMORY_NAMESPACE", "a,,b", r"MEMORY_NAMESPACE\[1\]"),
        ("MEMORY_SCHEMAS", "{not json", "MEMORY_SCHEMAS: not valid JSON"),
        ("MEMORY_DEDUP_THRESHOLD", "high", "MEMORY_DEDUP_THRESHOLD='high': expected a number"),
    ],
)
def test_bad_env_names_the_variable(monkeypatch, var, raw, message):
    monkeypatch.setenv(var, raw)
    with pytest.raises(InvalidPayloadError, match=message):
        Context()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query_limit": 0}, "context.query_limit"),
        ({"dedup_threshold": 1.5}, "context.dedup_threshold"),
        ({"dedup_threshold": "high"}, "context.dedup_threshold"),
        ({"model_timeout": 0}, "context.model_timeout"),
        ({"model_timeout": "slow"}, "context.model_timeout"),
        ({"enable_deletes": "yes"}, "context.enable_deletes"),
        ({"namespace": ["a.b"]}, "context.namespace"),
        (
            {"schemas": [{"name": "x y", "parameters": {"type": "object"}}]},
            r"context.schemas\[0\].name",
        ),
        (
            {"schemas": [{"name": "P", "parameters": {"type": "object"}, "update_mode": "merge"}]},
            "update_mode",
        ),
    ],
)
def test_bad_run_values_name_the_field(kwargs, message):
    with pytest.raises(InvalidPayloadError, match=message):
        Context(**kwargs)


# A value for each field's variable, and what the field then holds.
_ENV_SAMPLES = {
    "MEMORY_MODEL": ("openai:gpt-4.1-mini", "openai:gpt-4.1-mini"),
    "MEMORY_NAMESPACE": ('["a", "b"]', ["a", "b"]),
    "MEMORY_INSTRUCTIONS": ("Remember colours.", "Remember colours."),
    "MEMORY_SCHEMAS": ("[]", []),
    "MEMORY_ENABLE_INSERTS": ("off", False),
    "MEMORY_ENABLE_DELETES": ("on", True),
    "MEMORY_QUERY_LIMIT": ("7", 7),
    "MEMORY_DEDUP_THRESHOLD": ("0.5", 0.5),
    "MEMORY_MODEL_TIMEOUT": ("2.5", 2.5),
    "MEMORY_HISTORY_DAYS": ("0", 0.0),
    "MEMORY_MAX_MEMORIES": ("200", 200),
    "MEMORY_CONSOLIDATION_MAX_SHARE": ("0.25", 0.25),
    "MEMORY_FORGET_AFTER_DAYS": ('{"Memory": 30}', {"Memory": 30.0}),
    "MEMORY_FORGET_UNUSED_DAYS": ("Memory=7,*=90", {"Memory": 7.0, "*": 90.0}),
}


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        ("", {}),
        ("30", {"*": 30.0}),
        ("Memory=0.5, Preference = 90", {"Memory": 0.5, "Preference": 90.0}),
        ('{"Profile": 365, "*": 0}', {"Profile": 365.0, "*": 0.0}),
    ],
)
def test_a_forgetting_policy_is_read_from_the_environment_in_three_forms(monkeypatch, raw, policy):
    monkeypatch.setenv("MEMORY_FORGET_AFTER_DAYS", raw)
    assert Context().forget_after_days == policy


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("Memory=soon", "expected a number"),
        ("=3", "type=days"),
        ("[1]", "not valid JSON|expected"),
        ('{"Memory": -1}', ">= 0"),
        ('{"Memory": true}', "expected a number"),
    ],
)
def test_a_bad_forgetting_policy_fails_naming_what_is_wrong(monkeypatch, value, match):
    monkeypatch.setenv("MEMORY_FORGET_UNUSED_DAYS", value)
    with pytest.raises(InvalidPayloadError, match=match):
        Context()


def test_every_field_has_a_description_naming_the_env_var_that_supplies_it(monkeypatch):
    named: dict[str, str] = {}
    for f in dataclasses.fields(Context):
        assert f.metadata["description"], f.name
        found = re.search(r"Env: (MEMORY_\w+)", f.metadata["description"])
        assert found, f"{f.name}: its description names no env var"
        named[f.name] = found.group(1)
    assert set(named.values()) == set(_ENV_SAMPLES)
    for name, var in named.items():
        raw, expected = _ENV_SAMPLES[var]
        monkeypatch.setenv(var, raw)
        assert getattr(Context(), name) == expected, var


def test_schema_shows_the_default_the_environment_gives(monkeypatch):
    from pydantic import TypeAdapter

    def schema_defaults():
        props = TypeAdapter(Context).json_schema()["properties"]
        return {name: prop.get("default", "<none>") for name, prop in props.items()}

    assert schema_defaults()["query_limit"] == 5
    assert schema_defaults()["namespace"] == ["memories"]
    monkeypatch.setenv("MEMORY_QUERY_LIMIT", "9")
    monkeypatch.setenv("MEMORY_NAMESPACE", "memories,{user_id}")
    assert schema_defaults()["query_limit"] == 9
    assert schema_defaults()["namespace"] == ["memories", "{user_id}"]
    monkeypatch.setenv("MEMORY_QUERY_LIMIT", "many")  # a run fails on it; the form shows none
    assert schema_defaults()["query_limit"] == "<none>"
