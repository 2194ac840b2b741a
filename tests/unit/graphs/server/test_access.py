"""The server's access settings: API keys, Studio's pass, the body limit."""

from __future__ import annotations

import logging

import pytest

from graphs.server.access import DEFAULT_MAX_BODY_BYTES, Access, parse_api_keys


def test_api_keys_parse_into_identities():
    keys = parse_api_keys(" alice:" + "a" * 16 + " , bob:" + "b" * 20)
    assert keys == {"a" * 16: "alice", "b" * 20: "bob"}
    assert parse_api_keys("") == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("alice", "expected identity:key"),
        ("alice:short", "shorter than 16"),
        ("a.b:" + "k" * 16, "identity"),
        (f"alice:{'k' * 16},bob:{'k' * 16}", "also 'alice'"),
    ],
)
def test_bad_api_keys_say_which_entry(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_api_keys(raw)


def test_defaults_are_open_mode_without_studio_pass():
    access = Access.from_env({})
    assert not access.keyed and not access.studio
    assert access.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert access.identities == frozenset()


def test_keyed_settings_from_env():
    access = Access.from_env(
        {
            "MEMORY_API_KEYS": f"alice:{'a' * 16},alice:{'c' * 16},bob:{'b' * 16}",
            "MEMORY_STUDIO_ACCESS": "on",
            "MEMORY_MAX_BODY_BYTES": "65536",
        }
    )
    assert access.keyed and access.studio and access.max_body_bytes == 65536
    assert access.identities == {"alice", "bob"}
    assert access.identity_for("c" * 16) == "alice"  # one identity may hold several keys
    assert access.identity_for("b" * 16) == "bob"
    assert access.identity_for("b" * 15) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEMORY_STUDIO_ACCESS": "maybe"}, "MEMORY_STUDIO_ACCESS='maybe': expected true/false"),
        ({"MEMORY_MAX_BODY_BYTES": "lots"}, "MEMORY_MAX_BODY_BYTES='lots': expected an integer"),
        ({"MEMORY_MAX_BODY_BYTES": "100"}, "expected a number >= 1024"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Access.from_env(env)


def test_open_mode_says_so_loudly(caplog):
    with caplog.at_level(logging.INFO, logger="graphs.server.access"):
        Access().announce()
        Access(keys={"k" * 16: "alice"}, studio=True).announce()
        Access(keys={"k" * 16: "alice"}).announce()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "OPEN MODE" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "MEMORY_STUDIO_ACCESS is on" in warnings[1]
    assert len(warnings) == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("alice:" + "k" * 16 + ",bob", "MEMORY_API_KEYS entry 2: expected identity:key, got 'bob'"),
        (":" + "k" * 16, "MEMORY_API_KEYS entry 1: expected identity:key, got ':" + "k" * 16 + "'"),
        ("alice:", "MEMORY_API_KEYS entry 1: expected identity:key, got 'alice:'"),
        ("x" * 50, f"MEMORY_API_KEYS entry 1: expected identity:key, got '{'x' * 40}'"),
    ],
)
def test_a_malformed_key_entry_is_named_by_its_place(raw, message):
    with pytest.raises(ValueError) as info:
        parse_api_keys(raw)
    assert str(info.value) == message


def test_a_key_may_contain_colons():
    assert parse_api_keys("alice:" + "k:" * 8) == {"k:" * 8: "alice"}
