"""Domain errors: what services raise for expected failures, before any transport mapping.

    AppError
     ├── AuthError                      top-level GraphQL errors, not union members
     │    ├── UnauthenticatedError       no valid bearer token       (code UNAUTHENTICATED)
     │    └── ScopeForbiddenError        not a member of the org     (code FORBIDDEN)
     ├── ValidationFailedError           bad input; carries FieldIssue list
     ├── NotFoundError                   absent, or in another tenant's scope (no existence leak)
     ├── ForbiddenError                  authenticated and in scope, but the role may not do it
     ├── ConflictError                   unique value taken
     ├── InvalidCredentialsError         login refused
     ├── RateLimitedError                too many attempts; retry_after seconds
     └── QuotaExceededError              tenant limit reached; limit

`app.graphql.errors` turns each leaf into the contract's union member of the same name; upstream
failures have their own tree in `app.providers.base`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AppError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthError(AppError):
    code = "UNAUTHENTICATED"


class UnauthenticatedError(AuthError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Authentication required.") -> None:
        super().__init__(message)


class ScopeForbiddenError(AuthError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not a member of this organization.") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One invalid input value; `field` is a dotted path into the mutation input."""

    field: str
    message: str


class ValidationFailedError(AppError):
    def __init__(self, issues: Sequence[FieldIssue], message: str = "Invalid input.") -> None:
        super().__init__(message)
        self.issues = list(issues)


class NotFoundError(AppError):
    pass


class ForbiddenError(AppError):
    pass


class ConflictError(AppError):
    pass


class InvalidCredentialsError(AppError):
    def __init__(self, message: str = "Invalid email or password.") -> None:
        super().__init__(message)


class RateLimitedError(AppError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceededError(AppError):
    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit
