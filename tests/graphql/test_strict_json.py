"""The GraphQL view reads and writes standard JSON only: NaN and Infinity in a request are a 400,
and the JSON scalar never writes them."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from graphql import GraphQLScalarType, parse_value

from app.graphql.schema import build_schema
from tests.support.harness import Harness

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id config } ... on Error { message } } }"""


def _refuse(name: str) -> Any:
    raise AssertionError(f"the response contains {name}")


def strict(text: str) -> Any:
    """Parse like a browser's JSON.parse would: NaN and Infinity are errors."""
    return json.loads(text, parse_constant=_refuse)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_request_body_with_nan_is_a_bad_request(
    any_harness: Harness, constant: str
) -> None:
    token = await any_harness.register("owner@example.test")
    body = (
        '{"query": ' + json.dumps(CREATE) + ', "variables": {"input": {"name": "Hook", '
        '"type": "WEBHOOK", "config": {"ratio": ' + constant + "}, "
        '"credentials": {"webhook": {"url": "https://hooks.example.test/x"}}}}}'
    )

    response = await any_harness.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )

    # Before, the config was stored (SQLite) or the insert failed (PostgreSQL).
    assert response.status_code == 400
    gateways = await any_harness.gql("{ gateways { total } }", token=token)
    assert gateways["gateways"]["total"] == 0


def test_the_json_scalar_refuses_to_write_non_finite_numbers() -> None:
    schema = build_schema()
    json_type = schema._schema.type_map["JSON"]
    assert isinstance(json_type, GraphQLScalarType)

    for value in (math.nan, math.inf, {"a": [1, -math.inf]}):
        with pytest.raises(ValueError, match="NaN or Infinity"):
            json_type.serialize(value)
    assert json_type.serialize({"a": [1, 2.5, None]}) == {"a": [1, 2.5, None]}


def test_the_json_scalar_refuses_non_finite_literals() -> None:
    # `1e400` is a valid GraphQL float literal, and float("1e400") is infinite.
    json_type = build_schema()._schema.type_map["JSON"]
    assert isinstance(json_type, GraphQLScalarType)

    with pytest.raises(ValueError, match="NaN or Infinity"):
        json_type.parse_literal(parse_value("{x: [1, 1e400]}"))
    assert json_type.parse_literal(parse_value("{x: [1, 2.5]}")) == {"x": [1, 2.5]}
