"""Checks of the API against a design contract: no breaking change, SPA operations inside it.

The tests run these checks against small contracts written in the tests (so that `make test`
needs nothing beside the repository); `make check-contract` runs them against the shared design
contract when it is available:

    python -m tests.contract.check ../shared/design/contract.graphql
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from graphql import build_schema, find_breaking_changes, parse, validate

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "schema.graphql"
OPERATIONS_DIR = REPO / "frontend-contract"


def read_operations(directory: Path = OPERATIONS_DIR) -> dict[str, str]:
    """The SPA's operations, one named operation per `*.graphql` file, by file stem."""
    return {path.stem: path.read_text() for path in sorted(directory.glob("*.graphql"))}


def breaking_changes(contract_sdl: str, schema_sdl: str) -> list[str]:
    """What `schema_sdl` breaks of `contract_sdl`: every contract type, field, argument or enum
    value missing or changed incompatibly."""
    changes = find_breaking_changes(build_schema(contract_sdl), build_schema(schema_sdl))
    return [f"{change.type.name}: {change.description}" for change in changes]


# An operation whose file starts with this comment uses what the server added beyond the design
# contract (the comment says what): it is validated against `schema.graphql` only, which in turn
# must keep the contract whole. Every other operation must stay inside the contract itself.
BEYOND_CONTRACT_MARK = "# beyond-contract:"


def beyond_contract(text: str) -> bool:
    return text.lstrip().startswith(BEYOND_CONTRACT_MARK)


def operation_errors(contract_sdl: str, operations: Mapping[str, str]) -> dict[str, list[str]]:
    """Per operation that does not validate against the contract, its validation errors
    (operations marked as beyond the contract are not checked against it)."""
    contract = build_schema(contract_sdl)
    errors = {
        name: [error.message for error in validate(contract, parse(text))]
        for name, text in operations.items()
        if not beyond_contract(text)
    }
    return {name: messages for name, messages in errors.items() if messages}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m tests.contract.check CONTRACT.graphql", file=sys.stderr)
        return 2
    contract = Path(args[0]).read_text()
    problems = [f"schema.graphql: {c}" for c in breaking_changes(contract, SCHEMA_FILE.read_text())]
    for name, messages in operation_errors(contract, read_operations()).items():
        problems += [f"frontend-contract/{name}.graphql: {message}" for message in messages]
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) against {args[0]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
