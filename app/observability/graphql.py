"""A strawberry extension timing each GraphQL operation (installed only when metrics are on)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.observability.metrics import Metrics
from app.observability.outcome import OperationMarks, current_marks


class GraphQLMetrics(SchemaExtension):
    """ok, expected_error (a union error member) or error (top-level errors) per operation.

    Only `on_operation` is implemented: strawberry then adds no per-field middleware, so the cost
    is one hook per operation whatever the size of the result.
    """

    def __init__(self, *, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_operation(self) -> Iterator[None]:
        marks = OperationMarks()
        token = current_marks.set(marks)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            try:
                current_marks.reset(token)
            except ValueError:  # resumed in another context: leave a fresh holder-less state
                current_marks.set(None)
            self._record(marks, elapsed)

    def _record(self, marks: OperationMarks, elapsed: float) -> None:
        context = self.execution_context
        try:
            kind = context.operation_type
        except Exception:  # no document (syntax error) or an unknown operation name
            kind = None
        if kind is OperationType.SUBSCRIPTION:
            return  # a subscription lasts as long as its socket; counted as active instead
        result = context.result
        # No result yet: parsing raised, and strawberry builds the error result after the hooks.
        if result is None or result.errors or context.pre_execution_errors:
            outcome = "error"
        elif marks.expected_error:
            outcome = "expected_error"
        else:
            outcome = "ok"
        self._metrics.observe_graphql(
            context.operation_name, kind.value if kind else "unknown", outcome, elapsed
        )
