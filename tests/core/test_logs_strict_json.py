"""JSON log lines stay JSON when an `extra` value is NaN or infinite."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from app.core.logs import JsonFormatter


def _refuse(name: str) -> Any:
    raise AssertionError(f"the log line contains {name}")


def test_a_non_finite_extra_is_written_as_a_string() -> None:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "x.y.z", None, None)
    record.latency = math.nan
    record.nested = {"a": [math.inf, 1.5], "b": (-math.inf,)}

    line = JsonFormatter().format(record)

    data = json.loads(line, parse_constant=_refuse)
    assert data["event"] == "x.y.z"
    assert data["latency"] == "nan"
    assert data["nested"] == {"a": ["inf", 1.5], "b": ["-inf"]}


def test_finite_extras_are_written_as_numbers() -> None:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "x.y.z", None, None)
    record.latency = 2.5

    assert json.loads(JsonFormatter().format(record))["latency"] == 2.5
