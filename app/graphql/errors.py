"""The contract's error types (union members) and the mapping from domain errors to them.

Expected failures are values in a result union, never top-level errors; only authentication and
scope problems surface as top-level errors, with `extensions.code` for the SPA to branch on.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from app import errors as domain
from app.core.circuit_breaker import CircuitOpenError as BreakerOpen
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
    return ValidationError(
        message=message,
        field_errors=[FieldError(field=i.field, message=i.message) for i in issues],
    )


# The union members a domain error becomes. A resolver catches only the errors its union allows,
# so an error outside that set stays unexpected and gets masked.
def to_member(exc: Exception) -> Error:
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


EXPECTED_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"})


def should_mask(error: GraphQLError) -> bool:
    """Mask everything except errors we raised on purpose and GraphQL's own request errors."""
    if error.extensions and error.extensions.get("code") in EXPECTED_CODES:
        return False
    # No original error = a parse or validation error about the query itself: safe and useful.
    return error.original_error is not None
