"""Settings from the environment: default when unset or empty, else parsed and bounded, naming the variable."""

from __future__ import annotations

import pytest

from graphs.server.envvars import env_int, env_number, parse_int, parse_number
from sdk_client.errors import InvalidPayloadError


def test_unset_or_empty_is_the_default_and_a_value_is_parsed():
    assert env_int({}, "N", 7) == 7 and env_int({"N": "  "}, "N", 7) == 7
    assert env_int({"N": " 3 "}, "N", 7) == 3
    assert env_number({"X": ""}, "X", 1.5) == 1.5 and env_number({"X": "0.25"}, "X", 1.5) == 0.25


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: env_int({"N": "two"}, "N", 1), "N='two': expected an integer"),
        (lambda: env_int({"N": "1.5"}, "N", 1), "N='1.5': expected an integer"),
        (lambda: env_int({"N": "0"}, "N", 1, minimum=1), "N='0': expected a number >= 1"),
        (lambda: env_number({"X": "soon"}, "X", 1), "X='soon': expected a number"),
        (lambda: env_number({"X": "-1"}, "X", 1), "X='-1': expected a number >= 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_was_expected(read, message):
    with pytest.raises(ValueError, match=message):
        read()


def test_the_parsers_take_the_callers_error_type_and_need_no_minimum():
    # The graph's per-run settings: a bad value fails the run, not the server's start.
    with pytest.raises(InvalidPayloadError, match="Q='x': expected an integer"):
        parse_int("Q", "x", error=InvalidPayloadError)
    with pytest.raises(InvalidPayloadError, match="T='': expected a number"):
        parse_number("T", "", error=InvalidPayloadError)
    assert parse_int("Q", "-4") == -4 and parse_number("T", "-0.5") == -0.5
    with pytest.raises(InvalidPayloadError, match=r"T='-1': expected a number >= 0"):
        parse_number("T", "-1", minimum=0, error=InvalidPayloadError)
