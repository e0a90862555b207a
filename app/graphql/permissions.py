"""Resolver entry checks: turn the context's auth state into a user or a tenant scope.

Raised as GraphQLErrors carrying `extensions.code`, so they reach the client as top-level errors
(UNAUTHENTICATED, FORBIDDEN) and are not masked.
"""

from __future__ import annotations

from app.auth.models import User
from app.errors import AuthError
from app.graphql.context import Info
from app.graphql.errors import auth_error
from app.service_context import ServiceContext


def require_user(info: Info) -> User:
    try:
        return info.context.require_user()
    except AuthError as exc:
        raise auth_error(exc) from None


def require_scope(info: Info) -> ServiceContext:
    try:
        return info.context.service_context()
    except AuthError as exc:
        raise auth_error(exc) from None


def require_user_context(info: Info) -> ServiceContext:
    try:
        return info.context.user_context()
    except AuthError as exc:
        raise auth_error(exc) from None
