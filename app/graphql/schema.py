"""Schema composition only: each domain contributes its Query/Mutation parts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from graphql.execution import Executor
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from app.audit.resolvers import AuditQuery
from app.auth.resolvers import AuthMutation, AuthQuery
from app.gateways.action_resolvers import GatewayActionMutation
from app.gateways.resolvers import GatewayMutation, GatewayQuery
from app.gateways.subscriptions import GatewaySubscription
from app.graphql.errors import (
    ConflictError,
    ErrorPolicy,
    ForbiddenError,
    InvalidCredentialsError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationError,
    is_outage,
    is_unexpected,
)
from app.graphql.scalars import JSON, StrictJSON
from app.graphql.shared_execution import SharingExecutionContext
from app.graphql.validation import Validation
from app.organizations.resolvers import OrganizationMutation, OrganizationQuery
from app.webhooks.resolvers import WebhookQuery

log = logging.getLogger("app.graphql")


@strawberry.type
class Query(AuthQuery, OrganizationQuery, GatewayQuery, AuditQuery, WebhookQuery):
    pass


@strawberry.type
class Mutation(AuthMutation, OrganizationMutation, GatewayMutation, GatewayActionMutation):
    pass


@strawberry.type
class Subscription(GatewaySubscription):
    pass


class AppSchema(strawberry.Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result per operation: never a subscription. Over HTTP strawberry would otherwise
        run one as a query and fail with an internal error; refused, it is a 400 that says
        "subscriptions are not allowed when using POST" (they are served over the WebSocket)."""
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is worth a traceback.

        Errors about the request itself (syntax, validation, variable coercion) and the ones we
        raise on purpose (UNAUTHENTICATED, FORBIDDEN, ...) are the client's business: they are
        not logged, also because graphql-core quotes submitted variable values in their
        messages, and a submitted value may be a bot token or an API key.
        """
        for error in errors:
            if is_outage(error):
                # The database is down: one line per error, not a traceback per request.
                cause = type(error.original_error).__name__
                log.warning("graphql.execute.unavailable", extra={"error": cause})
            elif is_unexpected(error):
                super().process_errors([error], execution_context)


class NoSuggestionsExecutionContext(SharingExecutionContext):
    """Execution without schema hints (production).

    Variable and argument coercion ("Field 'x' is not defined by type 'Input'. Did you mean
    'y'?", enum values) build their messages from the executor's `hide_suggestions`, which
    strawberry never passes. Queries and subscriptions are both built through here."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        kwargs["hide_suggestions"] = True
        built: list[GraphQLError] | Executor[Any] = super().build(*args, **kwargs)
        return built


def build_schema(
    *,
    production: bool = False,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 5000,
    extra_extensions: Iterable[Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    # Rule classes are built once here: strawberry's limiters create a fresh rule class per
    # instance, and a fresh class per operation would change the validation cache's key on
    # every request, so nothing would ever be served from the cache.
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories: strawberry builds extensions per operation. The parser cache (strawberry's) and
    # the validation cache (app.graphql.validation) live at module level, so they are shared
    # across operations all the same; parsing and validating would otherwise dominate small
    # requests (~4x, ARCHITECTURE.md).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=256),
        lambda: Validation(hide_suggestions=production),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        ErrorPolicy,
        *extra_extensions,  # metrics and tracing (app/observability), when on
    ]
    return AppSchema(
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
        scalar_overrides={JSON: StrictJSON},
        # Hands a subscription's executor to its resolver, for executing events once per group.
        execution_context_class=(
            NoSuggestionsExecutionContext if production else SharingExecutionContext
        ),
    )


# For `strawberry export-schema app.graphql.schema:schema`; the server builds its own from Settings.
schema = build_schema()
