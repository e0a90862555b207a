"""The committed `schema.graphql` is current, and the contract check catches what it should.

The check against the shared design contract itself is `make check-contract` (run by `.ci/run`
when the contract is present); here the same machinery (tests/contract/check.py) runs against
small contracts written below, so that a clone with nothing beside it tests everything.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest
from strawberry.printer import print_schema

from app.graphql.schema import schema
from tests.contract.check import REPO, SCHEMA_FILE, breaking_changes

REGENERATE = ".venv/bin/strawberry export-schema app.graphql.schema:schema --output schema.graphql"

CONTRACT = """
type Query { gateway(id: ID!): Gateway, gateways(first: Int): [Gateway!]! }
type Gateway { id: ID!, name: String!, status: GatewayStatus! }
enum GatewayStatus { CONNECTED DISCONNECTED }
"""


def test_committed_schema_is_not_stale() -> None:
    # `strawberry export-schema --output` writes the printed schema plus a final newline.
    current = print_schema(schema) + "\n"
    committed = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
    if committed != current:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                current.splitlines(keepends=True),
                "schema.graphql (committed)",
                "schema.graphql (from the code)",
            )
        )
        pytest.fail(f"schema.graphql is stale; regenerate it with:\n  {REGENERATE}\n\n{diff}")


def test_a_schema_equal_to_the_contract_or_larger_breaks_nothing() -> None:
    larger = CONTRACT.replace("status: GatewayStatus!", "status: GatewayStatus!, note: String")
    larger = larger.replace("DISCONNECTED", "DISCONNECTED ERROR")
    assert breaking_changes(CONTRACT, CONTRACT) == []
    assert breaking_changes(CONTRACT, larger) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("name: String!, ", "", "FIELD_REMOVED: Field Gateway.name was removed."),
        (
            "name: String!",
            "name: String",
            "FIELD_CHANGED_KIND: Field Gateway.name changed type from String! to String.",
        ),
        (
            "CONNECTED DISCONNECTED",
            "CONNECTED",
            "VALUE_REMOVED_FROM_ENUM: Enum value GatewayStatus.DISCONNECTED was removed.",
        ),
        (
            "gateway(id: ID!)",
            "gateway(id: ID!, scope: ID!)",
            "REQUIRED_ARG_ADDED: A required argument Query.gateway(scope:) was added.",
        ),
    ],
)
def test_a_breaking_change_is_reported(old: str, new: str, expected: str) -> None:
    assert old in CONTRACT
    assert breaking_changes(CONTRACT, CONTRACT.replace(old, new)) == [expected]


def test_check_contract_command_reports_and_fails_on_a_breaking_change(tmp_path: Path) -> None:
    """`make check-contract` runs this command; it must fail on a contract the schema breaks."""
    served = SCHEMA_FILE.read_text()
    broken_contract = tmp_path / "contract.graphql"
    # A contract that asks for a field the schema does not have.
    broken_contract.write_text(
        served.replace(
            "  hasNextPage: Boolean!\n", "  hasNextPage: Boolean!\n  neverServed: Int!\n", 1
        )
    )
    ok_contract = tmp_path / "ok.graphql"
    ok_contract.write_text(served)

    def run(contract: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.contract.check", str(contract)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    broken, ok = run(broken_contract), run(ok_contract)

    assert broken.returncode == 1
    assert "FIELD_REMOVED: Field GatewayPage.neverServed was removed." in broken.stdout
    assert (ok.returncode, ok.stdout.splitlines()[-1]) == (0, f"0 problem(s) against {ok_contract}")
