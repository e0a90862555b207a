"""JSON as RFC 8259 defines it, in and out.

Python's `json` accepts and writes `NaN`, `Infinity` and `-Infinity` by default, and turns a
number too large for a double (`1e400`) into an infinite float. None of that is JSON: a browser's
`JSON.parse` refuses it, PostgreSQL's `jsonb` refuses it, and a value that went in that way comes
back out as a document no client can read. Every JSON the app reads from outside or writes for
others goes through these functions instead, so such a value is refused where it enters.

    ValueError
     └── json.JSONDecodeError
          └── NonStandardJSONError   NaN, Infinity or an out-of-range number in the input

(A JSONDecodeError, so code that already turns malformed JSON into a 400 - strawberry's view,
its WebSocket reader - treats these the same way.)

`loads` raises ValueError (json.JSONDecodeError, UnicodeDecodeError or NonStandardJSONError) for
anything that is not standard JSON; `dumps` raises ValueError for a non-finite float.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NonStandardJSONError(json.JSONDecodeError):
    """The text uses a JavaScript constant or a number no double can hold."""

    def __init__(self, message: str) -> None:
        # The decoder's hooks do not see the position; the message names the value instead.
        super().__init__(message, "", 0)


def _refuse_constant(name: str) -> Any:
    raise NonStandardJSONError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonStandardJSONError(f"the number {text[:32]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def loads(data: str | bytes | bytearray) -> Any:
    """`json.loads` that refuses NaN, Infinity and numbers beyond a double's range."""
    if isinstance(data, bytes | bytearray):
        # What json.loads does with bytes: detect UTF-8/16/32, keep lone surrogates for the
        # caller to deal with.
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    if data.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
    return _DECODER.decode(data)


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` that raises ValueError instead of writing NaN or Infinity."""
    return json.dumps(value, allow_nan=False, **kwargs)


def check_finite(value: Any) -> Any:
    """`value` itself; ValueError if a float somewhere inside it is NaN or infinite."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON cannot represent NaN or Infinity")
    elif isinstance(value, dict):
        for item in value.values():
            check_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_finite(item)
    return value


def compact(value: Any) -> str:
    """Strict `dumps` without spaces, the form stored in JSON columns."""
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _null_constant(name: str) -> None:
    return None


def _float_or_null(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


_STORED_DECODER = json.JSONDecoder(parse_constant=_null_constant, parse_float=_float_or_null)


def loads_stored(data: str | bytes | bytearray) -> Any:
    """Read a JSON column: what `compact` wrote, or a value written before the app was strict.

    SQLite kept whatever text it was given, so a row stored earlier may hold NaN or Infinity.
    Refusing it here would make every list that includes the row fail; passing it on would
    hand clients a document they cannot parse. Such values read as null.
    """
    if isinstance(data, bytes | bytearray):
        data = data.decode("utf-8")
    return _STORED_DECODER.decode(data)
