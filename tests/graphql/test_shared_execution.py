"""What decides which subscriptions may share one execution of an event."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse

from app.graphql.schema import build_schema
from app.graphql.shared_execution import FieldSet, selects_only

ALLOWED: FieldSet = {
    "Subscription": frozenset({"gatewayStatusChanged"}),
    "GatewayStatusEvent": frozenset({"status", "gateway"}),
    "Gateway": frozenset({"id", "organization", "credentialInfo"}),
    "Organization": frozenset({"name"}),
    "AICredentialInfo": frozenset({"provider"}),
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    graphql_schema: GraphQLSchema = build_schema()._schema
    return graphql_schema


@pytest.mark.parametrize(
    "document",
    [
        "subscription { gatewayStatusChanged { status } }",
        "subscription { gatewayStatusChanged { __typename status gateway { __typename id } } }",
        # Aliases rename, they do not change the field.
        "subscription { changed: gatewayStatusChanged { now: status gateway { key: id } } }",
        "subscription { gatewayStatusChanged { gateway { organization { name } } } }",
        "subscription { gatewayStatusChanged { ...E } }"
        " fragment E on GatewayStatusEvent { status }",
        # A union member's fields are looked up on that member.
        "subscription { gatewayStatusChanged { gateway { credentialInfo {"
        " ... on AICredentialInfo { provider } } } } }",
    ],
)
def test_documents_within_the_allowed_fields(schema: GraphQLSchema, document: str) -> None:
    assert selects_only(schema, parse(document), ALLOWED)


@pytest.mark.parametrize(
    "document",
    [
        "subscription { gatewayStatusChanged { error } }",
        "subscription { gatewayStatusChanged { gateway { organization { viewerRole } } } }",
        # Hidden in a fragment, or behind an alias that looks allowed.
        "subscription { gatewayStatusChanged { ...E } }"
        " fragment E on GatewayStatusEvent { gateway { name } }",
        "subscription { gatewayStatusChanged { status: error } }",
        # `provider` is allowed on AICredentialInfo only, not on another member of the union.
        "subscription { gatewayStatusChanged { gateway { credentialInfo {"
        " ... on WebhookCredentialInfo { url } } } } }",
        # A field unknown to the schema is never "allowed".
        "subscription { gatewayStatusChanged { nonsense } }",
    ],
)
def test_documents_reaching_any_other_field(schema: GraphQLSchema, document: str) -> None:
    assert not selects_only(schema, parse(document), ALLOWED)
