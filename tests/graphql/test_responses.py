"""Choosing the response media type from Accept, and telling request errors from execution
errors (GraphQL over HTTP)."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from app.graphql.responses import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, is_request_error
from app.graphql.responses import response_media_type as choose


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("text/html", APPLICATION_JSON),  # nothing acceptable: the legacy type, not a 406
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE_JSON),
        # What the spec tells clients to send, and what urql sends.
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (
            f"{GRAPHQL_RESPONSE_JSON}, application/graphql+json, application/json, "
            "text/event-stream, multipart/mixed",
            GRAPHQL_RESPONSE_JSON,
        ),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, application/json", APPLICATION_JSON),
        (f"application/json;q=0.2, {GRAPHQL_RESPONSE_JSON};q=0.8", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=oops", APPLICATION_JSON),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, expected: str) -> None:
    assert choose(accept) == expected


def test_errors_without_a_path_and_no_data_are_request_errors() -> None:
    validation = GraphQLError("Cannot query field 'x' on type 'Query'.")
    field = GraphQLError("Authentication required.", path=["gateways"])

    assert is_request_error(None, [validation])
    assert not is_request_error(None, [field])  # executed: failed at a root field
    assert not is_request_error(None, [validation, field])
    assert not is_request_error({"viewer": None}, [validation])
    assert not is_request_error(None, [])
    assert not is_request_error(None, None)
