"""Strict JSON: NaN, Infinity and out-of-range numbers are refused in and out, and stored values
written before the app was strict read as null."""

from __future__ import annotations

import json
import math

import pytest

from app.core import strict_json


@pytest.mark.parametrize(
    "text",
    ["NaN", "Infinity", "-Infinity", "[1, NaN]", '{"a": {"b": Infinity}}', "1e400", "-1e309"],
)
def test_non_standard_numbers_are_refused(text: str) -> None:
    with pytest.raises(strict_json.NonStandardJSONError):
        strict_json.loads(text)
    with pytest.raises(strict_json.NonStandardJSONError):
        strict_json.loads(text.encode())


def test_the_error_is_a_json_decode_error() -> None:
    # strawberry turns JSONDecodeError (only) into a 400 and a WebSocket close.
    with pytest.raises(json.JSONDecodeError):
        strict_json.loads('{"x": NaN}')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2.5, -0.0, 1e308, "NaN"]}', {"a": [1, 2.5, -0.0, 1e308, "NaN"]}),
        (" \n[true, null] \t", [True, None]),
        ("9223372036854775807", 2**63 - 1),
        ('"gr\\u00fc\\u00dfe"', "grüße"),
    ],
)
def test_standard_json_reads_as_json_loads_reads_it(text: str, expected: object) -> None:
    assert strict_json.loads(text) == expected
    assert strict_json.loads(text.encode()) == json.loads(text.encode())


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"\xff\xfe{}", b'{"a": 1} x', b"\xef\xbb\xbf" + b"{x}"]
)
def test_malformed_input_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError or UnicodeDecodeError
        strict_json.loads(raw)


def test_a_lone_surrogate_in_raw_bytes_is_kept_for_the_caller() -> None:
    assert strict_json.loads(b'"a\xed\xb0\x80b"') == "a\udc00b"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"a": [1, math.nan]}])
def test_dumps_refuses_non_finite_floats(value: object) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        strict_json.dumps(value)
    with pytest.raises(ValueError, match="JSON compliant"):
        strict_json.compact(value)
    with pytest.raises(ValueError, match="NaN or Infinity"):
        strict_json.check_finite(value)


def test_compact_and_check_finite_pass_standard_values() -> None:
    value = {"a": [1, 2.5, None, "x"], "b": {"c": True}}
    assert strict_json.compact(value) == '{"a":[1,2.5,null,"x"],"b":{"c":true}}'
    assert strict_json.check_finite(value) is value


def test_stored_values_written_before_the_app_was_strict_read_as_null() -> None:
    stored = '{"a": NaN, "b": [Infinity, -Infinity, 1e999, 1.5], "c": "NaN"}'
    assert strict_json.loads_stored(stored) == {"a": None, "b": [None, None, None, 1.5], "c": "NaN"}
    assert strict_json.loads_stored(stored.encode())["b"][3] == 1.5
