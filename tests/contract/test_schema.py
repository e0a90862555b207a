"""The committed `schema.graphql` is current and keeps the SPA contract without breaking changes."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
from graphql import BreakingChangeType, GraphQLSchema, build_schema, find_breaking_changes
from strawberry.printer import print_schema

from app.graphql.schema import schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "schema.graphql"
REGENERATE = ".venv/bin/strawberry export-schema app.graphql.schema:schema --output schema.graphql"

# Parts of the contract whose issues are still open: a breaking change that only says one of them
# is missing is tolerated *while it is missing*. As soon as the schema has it, any difference from
# the contract fails like every other one.
IN_PROGRESS_TYPES = ("TelegramUpdate", "GatewayStatusEvent", "Subscription")
IN_PROGRESS_FIELDS = (("Query", "telegramUpdates"),)


def contract_path() -> Path | None:
    """The design contract beside the repository, else $CONTRACT_PATH; None when neither exists."""
    candidates = [Path(__file__).resolve().parents[3] / "shared/design/contract.graphql"]
    if os.environ.get("CONTRACT_PATH"):
        candidates.append(Path(os.environ["CONTRACT_PATH"]))
    return next((path for path in candidates if path.is_file()), None)


def served_schema() -> GraphQLSchema:
    return build_schema(print_schema(schema))


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


def tolerated_changes(served: GraphQLSchema) -> set[tuple[BreakingChangeType, str]]:
    """The breaking changes that only report an in-progress part the schema does not have yet."""
    tolerated: set[tuple[BreakingChangeType, str]] = set()
    for name in IN_PROGRESS_TYPES:
        if served.get_type(name) is None:
            tolerated.add((BreakingChangeType.TYPE_REMOVED, f"{name} was removed."))
    for type_name, field_name in IN_PROGRESS_FIELDS:
        owner = served.get_type(type_name)
        if owner is None or field_name not in getattr(owner, "fields", {}):
            tolerated.add(
                (BreakingChangeType.FIELD_REMOVED, f"Field {type_name}.{field_name} was removed.")
            )
    return tolerated


def test_schema_keeps_the_contract() -> None:
    path = contract_path()
    if path is None:
        pytest.skip(
            "the design contract is not available: ../shared/design/contract.graphql is missing "
            "(a fresh clone without ../shared); set CONTRACT_PATH to check against it"
        )
    served = served_schema()
    changes = find_breaking_changes(build_schema(path.read_text()), served)
    tolerated = tolerated_changes(served)
    unexpected = [
        f"{change.type.name}: {change.description}"
        for change in changes
        if (change.type, change.description) not in tolerated
    ]
    assert unexpected == [], (
        "the schema breaks the SPA contract (../shared/tools/check_contract.py)"
    )


def _contract_without_telegram_update(contract: str, replacement: str) -> GraphQLSchema:
    block = re.compile(r"^type TelegramUpdate \{.*?^\}\n", re.DOTALL | re.MULTILINE)
    field = re.compile(r"^.*\n  telegramUpdates\(.*\n", re.MULTILINE)  # with its description
    assert block.search(contract)
    assert field.search(contract)
    return build_schema(field.sub("", block.sub(replacement, contract)))


def test_only_absent_in_progress_parts_are_tolerated() -> None:
    path = contract_path()
    if path is None:
        pytest.skip("../shared/design/contract.graphql is missing; set CONTRACT_PATH")
    text = path.read_text()
    contract = build_schema(text)

    absent = _contract_without_telegram_update(text, "")
    changes = {(c.type, c.description) for c in find_breaking_changes(contract, absent)}
    assert changes == {
        (BreakingChangeType.TYPE_REMOVED, "TelegramUpdate was removed."),
        (BreakingChangeType.FIELD_REMOVED, "Field Query.telegramUpdates was removed."),
    }
    assert changes <= tolerated_changes(absent)

    # Half built: the type exists, so its missing fields are breaking changes like any other.
    partial = _contract_without_telegram_update(text, "type TelegramUpdate {\n  id: ID!\n}\n")
    changes = {(c.type, c.description) for c in find_breaking_changes(contract, partial)}
    missing = (BreakingChangeType.FIELD_REMOVED, "Field TelegramUpdate.updateId was removed.")
    assert missing in changes - tolerated_changes(partial)


def test_contract_check_fails_on_a_breaking_change() -> None:
    """The check above is not vacuous: dropping a contract field is reported and not tolerated."""
    path = contract_path()
    if path is None:
        pytest.skip("../shared/design/contract.graphql is missing; set CONTRACT_PATH")
    printed = print_schema(schema).replace("  hasNextPage: Boolean!\n", "")
    broken = build_schema(printed)
    changes = {
        (c.type, c.description)
        for c in find_breaking_changes(build_schema(path.read_text()), broken)
    }
    missing = (BreakingChangeType.FIELD_REMOVED, "Field GatewayPage.hasNextPage was removed.")
    assert missing in changes
    assert missing not in tolerated_changes(broken)
