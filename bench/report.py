"""One table for every scenario: baseline, subject, ratio, target and verdict side by side."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    BELOW = "BELOW"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    INFO = "-"


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    metric: str
    baseline: float | None
    subject: float | None
    target: str
    verdict: Verdict
    ratio: float | None = None
    note: str = ""


def ratio_row(
    scenario: str, metric: str, baseline: float, subject: float, minimum: float, note: str = ""
) -> Row:
    """subject / baseline against a minimum ratio (higher is better)."""
    ratio = subject / baseline if baseline > 0 else 0.0
    verdict = Verdict.PASS if ratio >= minimum else Verdict.BELOW
    return Row(scenario, metric, baseline, subject, f">= {minimum:g}", verdict, ratio, note)


def ceiling_row(scenario: str, metric: str, value: float, maximum: float, unit: str) -> Row:
    """An absolute figure against a maximum (lower is better)."""
    verdict = Verdict.PASS if value < maximum else Verdict.BELOW
    return Row(scenario, metric, None, value, f"< {maximum:g} {unit}", verdict)


def failed_row(scenario: str, verdict: Verdict, note: str) -> Row:
    return Row(scenario, "", None, None, "", verdict, note=note)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def render(rows: Sequence[Row], title: str = "") -> str:
    header = ("scenario", "metric", "baseline", "subject", "ratio", "target", "result")
    cells = [
        (
            r.scenario,
            r.metric,
            _number(r.baseline),
            _number(r.subject),
            f"{r.ratio:.2f}" if r.ratio is not None else "-",
            r.target or "-",
            r.verdict.value,
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    right = {2, 3, 4}

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out += [line(header), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    notes = [f"  {r.scenario}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)
