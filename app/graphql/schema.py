"""Schema composition only: each domain contributes its Query/Mutation parts."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from app.audit.resolvers import AuditQuery
from app.auth.resolvers import AuthMutation, AuthQuery
from app.gateways.action_resolvers import GatewayActionMutation
from app.gateways.resolvers import GatewayMutation, GatewayQuery
from app.gateways.subscriptions import GatewaySubscription
from app.graphql.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredentialsError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationError,
    should_mask,
)
from app.organizations.resolvers import OrganizationMutation, OrganizationQuery
from app.webhooks.resolvers import WebhookQuery


@strawberry.type
class Query(AuthQuery, OrganizationQuery, GatewayQuery, AuditQuery, WebhookQuery):
    pass


@strawberry.type
class Mutation(AuthMutation, OrganizationMutation, GatewayMutation, GatewayActionMutation):
    pass


@strawberry.type
class Subscription(GatewaySubscription):
    pass


def build_schema(
    *,
    production: bool = False,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
) -> strawberry.Schema:
    # Factories: strawberry builds extensions per operation. The parser and validation caches
    # live at module level inside strawberry, so they are shared across operations all the same;
    # parsing and validating would otherwise dominate small requests (~4x, ARCHITECTURE.md).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    if production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        # Types reachable only through unions/interfaces at runtime are listed explicitly.
        types=[
            ValidationError,
            NotFoundError,
            ForbiddenError,
            ConflictError,
            InvalidCredentialsError,
            RateLimitedError,
            QuotaExceededError,
        ],
        config=StrawberryConfig(disable_field_suggestions=production),
    )


# For `strawberry export-schema app.graphql.schema:schema`; the server builds its own from Settings.
schema = build_schema()
