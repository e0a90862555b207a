"""Tells the GraphQL metrics extension that an operation answered with an expected error member.

`app.graphql.errors` calls `mark_expected_error()` where a domain error becomes a union member
(`ValidationError`, `NotFoundError`, ...). The serialized result cannot tell such a member from a
success unless the client selected `__typename`, so the mark is the only reliable signal. With
metrics off no mark holder is set and the call is one ContextVar read.
"""

from __future__ import annotations

from contextvars import ContextVar


class OperationMarks:
    __slots__ = ("expected_error",)

    def __init__(self) -> None:
        self.expected_error = False


# A mutable holder rather than a flag in the variable itself: resolvers may run in tasks that
# graphql-core creates (list fields), which see a copy of the context but the same holder.
current_marks: ContextVar[OperationMarks | None] = ContextVar(
    "graphql_operation_marks", default=None
)


def mark_expected_error() -> None:
    marks = current_marks.get()
    if marks is not None:
        marks.expected_error = True
