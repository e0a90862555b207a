"""Document validation, cached, and without schema hints in production.

graphql-core leaves every "Did you mean ...?" out of its validation messages (unknown fields,
arguments, types, enum values, input object fields) when `validate` is called with
`hide_suggestions=True`; strawberry never passes it, and only strips the field suggestion
afterwards (`disable_field_suggestions`). With introspection off, the other hints would still
map the schema one typo at a time. This extension takes the place of strawberry's
ValidationCache: the same validation (strawberry's two extra rules included), the same shared
LRU cache, with the flag passed through.

One rule ignores the flag: ScalarLeafsRule always ends "... must have a selection of
subfields. Did you mean 'viewer { ... }'?". With hints hidden it is swapped for a subclass that
reports the same error without that sentence.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ScalarLeafsRule,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

CACHE_SIZE = 256


HINT = " Did you mean "


class ScalarLeafsWithoutHintRule(ScalarLeafsRule):
    def report_error(self, error: GraphQLError) -> None:
        message, hint, _ = error.message.partition(HINT)
        if hint:
            error = GraphQLError(message, error.nodes, original_error=error.original_error)
        super().report_error(error)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: Collection[type[ASTValidationRule]],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """What strawberry's `validate_document` does, with `hide_suggestions` passed on."""
    if hide_suggestions:
        rules = [ScalarLeafsWithoutHintRule if r is ScalarLeafsRule else r for r in rules]
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=hide_suggestions,
    )


# Module level, like strawberry's: extensions are built per operation, the cache is shared.
# The key includes the document object (ParserCache hands out the same one for the same text).
_cached_validate = lru_cache(maxsize=CACHE_SIZE)(validate_document)


class Validation(SchemaExtension):
    def __init__(self, *, hide_suggestions: bool) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed before validation
        context.pre_execution_errors = _cached_validate(
            context.schema._schema,
            context.graphql_document,
            tuple(context.validation_rules),
            self.hide_suggestions,
        )
        yield
