"""The contract's error types (union members) and the mapping from domain errors to them.

Expected failures are values in a result union, never top-level errors; only authentication and
scope problems surface as top-level errors, with `extensions.code` for the SPA to branch on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app import errors as domain
from app.core.circuit_breaker import CircuitOpenError as BreakerOpen
from app.core.db_outage import is_database_unavailable
from app.observability.outcome import mark_expected_error
from app.providers import base as providers


@strawberry.interface(name="Error")
class Error:
    message: str


@strawberry.type
class FieldError:
    field: str = strawberry.field(
        description='Dotted path into the mutation input, e.g. "credentials.telegramBot.botToken".'
    )
    message: str


@strawberry.type
class ValidationError(Error):
    field_errors: list[FieldError]


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type(
    description="The caller is authenticated but its role in the current scope does not allow this."
)
class ForbiddenError(Error):
    pass


@strawberry.type
class ConflictError(Error):
    pass


@strawberry.type
class InvalidCredentialsError(Error):
    pass


@strawberry.type
class RateLimitedError(Error):
    retry_after_seconds: float


@strawberry.type
class QuotaExceededError(Error):
    limit: int


@strawberry.type(
    description=(
        "An upstream (Telegram, an AI provider, a webhook target) refused or failed the call."
    )
)
class ProviderError(Error):
    code: str = strawberry.field(
        description="AUTH_INVALID, PERMISSION, QUOTA_EXHAUSTED, RATE_LIMITED, UNAVAILABLE, "
        "TIMEOUT, BAD_REQUEST"
    )
    retryable: bool
    retry_after_seconds: float | None
    upstream_status: int | None


@strawberry.type
class CircuitOpenError(Error):
    retry_after_seconds: float


@strawberry.type
class UnsupportedActionError(Error):
    supported_actions: list[str]


def validation_error(issues: list[domain.FieldIssue], message: str) -> ValidationError:
    mark_expected_error()
    return ValidationError(
        message=message,
        field_errors=[FieldError(field=i.field, message=i.message) for i in issues],
    )


# The union members a domain error becomes. A resolver catches only the errors its union allows,
# so an error outside that set stays unexpected and gets masked.
def to_member(exc: Exception) -> Error:
    mark_expected_error()
    match exc:
        case domain.ValidationFailedError():
            return validation_error(exc.issues, exc.message)
        case domain.NotFoundError():
            return NotFoundError(message=exc.message)
        case domain.ForbiddenError():
            return ForbiddenError(message=exc.message)
        case domain.ConflictError():
            return ConflictError(message=exc.message)
        case domain.InvalidCredentialsError():
            return InvalidCredentialsError(message=exc.message)
        case domain.RateLimitedError():
            return RateLimitedError(message=exc.message, retry_after_seconds=exc.retry_after)
        case domain.QuotaExceededError():
            return QuotaExceededError(message=exc.message, limit=exc.limit)
        case providers.ProviderError():
            return ProviderError(
                message=exc.message,
                code=exc.code.value,
                retryable=exc.retryable,
                retry_after_seconds=exc.retry_after,
                upstream_status=exc.upstream_status,
            )
        case BreakerOpen():
            return CircuitOpenError(
                message="The upstream is failing; calls are paused.",
                retry_after_seconds=exc.retry_after,
            )
        case providers.UnsupportedActionError():
            return UnsupportedActionError(message=str(exc), supported_actions=exc.supported)
        case providers.ActionParamsError():
            issues = [domain.FieldIssue(f"params.{e.field}", e.message) for e in exc.errors]
            return validation_error(issues, "Invalid action parameters.")
    raise exc


def bad_arguments(exc: domain.ValidationFailedError) -> GraphQLError:
    """Query arguments have no result union to carry a ValidationError: they are reported like
    GraphQL's own argument errors, with a code the SPA can branch on."""
    detail = "; ".join(f"{i.field}: {i.message}" for i in exc.issues)
    return GraphQLError(f"Invalid arguments: {detail}", extensions={"code": "BAD_USER_INPUT"})


def auth_error(exc: domain.AuthError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code})


EXPECTED_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND"})


def is_unexpected(error: GraphQLError) -> bool:
    """A failure of ours (a bug, a dependency down), as opposed to the request's own fault."""
    if error.extensions and error.extensions.get("code") in EXPECTED_CODES:
        return False
    original = error.original_error
    # No original error: a parse or validation error about the query itself. An original that
    # is itself a plain GraphQLError: variable coercion and argument errors from graphql-core.
    if original is None:
        return False
    return not (isinstance(original, GraphQLError) and original.original_error is None)


# graphql-core ends its input-coercion messages with the offending value ("..., found: {...}.",
# "... encountered error '...'; found: ..."), and that value may be a bot token or an API key.
_ECHOED_VALUE = re.compile(r"(?:[,;.]?\s*(?:but encountered error|found)\b).*$", re.I | re.S)


def _echoes_input(error: GraphQLError) -> bool:
    return error.message.startswith("Variable '$") or " has invalid value" in error.message


MASKED_MESSAGE = "Unexpected error."
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly."


def is_outage(error: GraphQLError) -> bool:
    """A field failed because the database cannot be reached: the client may retry; not a bug."""
    original = error.original_error
    return original is not None and is_database_unavailable(original)


def public_error(error: GraphQLError) -> GraphQLError:
    """`error` as a client may see it: an outage said as such, masked when unexpected, without
    echoed input values."""
    if is_outage(error):
        message, extensions = UNAVAILABLE_MESSAGE, {"code": "SERVICE_UNAVAILABLE"}
    elif is_unexpected(error):
        message, extensions = MASKED_MESSAGE, None
    elif _echoes_input(error):
        message, extensions = _ECHOED_VALUE.sub(".", error.message), {"code": "BAD_USER_INPUT"}
    else:
        return error
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorPolicy(SchemaExtension):
    """Unexpected errors become "Unexpected error."; request errors that quote a submitted
    value keep their explanation but lose the value.

    Written out rather than subclassing strawberry's MaskErrors: that one checks every result
    against a runtime-checkable Protocol, which is slow enough to show up once per delivered
    subscription event (bench/ fanout).
    """

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        # Streamed results were rewritten one by one as they went out.
        if self._streamed:
            return
        result = self.execution_context.result
        self._rewrite(result)
        self._rewrite(getattr(result, "initial_result", None))

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        self._rewrite(result)
        for part in chain(
            getattr(result, "incremental", None) or (), getattr(result, "completed", None) or ()
        ):
            self._rewrite(part)
        yield None

    def _rewrite(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [public_error(error) for error in errors]
