"""GraphQL over HTTP as clients send it: malformed requests are 400s with a GraphQL error (never
a 500 and a traceback), queries over GET, mutations never over GET, the response media types,
and browsers sent to the explorer."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.harness import Harness, make_settings, running_app

VIEWER = "{ viewer { id } }"
JSON = {"content-type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def assert_graphql_error(response: httpx.Response, status: int, code: str = "BAD_REQUEST") -> str:
    """A refusal: `status`, one GraphQL error with `code`, no `data` (nothing was executed)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": code}
    message: str = error["message"]
    return message


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """At most one log line, and no traceback: a flood of bad requests cannot flood the log.
    (The test's own HTTP client logs each request it makes; that is not the server's log.)"""
    records = [r for r in caplog.records if r.name != "httpx"]
    assert len(records) <= 1, [r.getMessage() for r in records]
    assert all(r.exc_info is None for r in records)


# ---------------------------------------------------------------- malformed POST bodies

MALFORMED_BODIES: dict[str, tuple[bytes, str]] = {
    "variables nested 1000 levels": (
        b'{"query": "query($v: [Int]) { viewer { id } }", "variables": {"v": '
        + deep(1000).encode()
        + b"}}",
        "The JSON is nested too deeply.",
    ),
    "variables nested past the limit": (
        json.dumps({"query": VIEWER, "variables": {"v": json.loads(deep(40))}}).encode(),
        "The JSON is nested too deeply.",
    ),
    "invalid UTF-8": (
        b'{"query": "{ viewer { id } }\xff\xfe"}',
        "The request body is not valid UTF-8.",
    ),
    "broken JSON": (b'{"query": "{ viewer { id } }"', "The request is not valid JSON."),
    "empty body": (b"", "The request is not valid JSON."),
    "a huge number": (
        b'{"query": "{ viewer { id } }", "variables": {"n": 1' + b"0" * 5000 + b"}}",
        "The request is not valid JSON.",
    ),
    "NaN": (
        b'{"query": "{ viewer { id } }", "variables": {"n": NaN}}',
        "The request is not valid JSON.",
    ),
    "a string body": (b'"{ viewer { id } }"', "The request body must be a JSON object."),
    "a number body": (b"42", "The request body must be a JSON object."),
    "a null body": (b"null", "The request body must be a JSON object."),
    "a batch": (
        json.dumps([{"query": VIEWER}] * 3).encode(),
        "Batched requests are not supported: send one operation.",
    ),
    "no query": (
        b'{"variables": {}}',
        "The request has no GraphQL query (`query` must be a string).",
    ),
    "query not a string": (
        b'{"query": ["{ viewer { id } }"]}',
        "The request has no GraphQL query (`query` must be a string).",
    ),
    "variables a list": (
        b'{"query": "{ viewer { id } }", "variables": [1, 2]}',
        "`variables` must be an object or null.",
    ),
    "variables a string": (
        b'{"query": "{ viewer { id } }", "variables": "{}"}',
        "`variables` must be an object or null.",
    ),
    "extensions a list": (
        b'{"query": "{ viewer { id } }", "extensions": []}',
        "`extensions` must be an object or null.",
    ),
    "operationName a number": (
        b'{"query": "{ viewer { id } }", "operationName": 7}',
        "`operationName` must be a string or null.",
    ),
}


@pytest.mark.parametrize("case", MALFORMED_BODIES)
async def test_a_malformed_body_is_a_400_with_a_graphql_error(
    harness: Harness, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, expected = MALFORMED_BODIES[case]
    caplog.set_level(logging.DEBUG)

    response = await harness.client.post("/graphql", content=body, headers=JSON)

    assert assert_graphql_error(response, 400) == expected
    assert_quiet(caplog)


async def test_a_malformed_body_with_a_token_is_still_a_400(harness: Harness) -> None:
    token = await harness.register("malformed@example.test")
    response = await harness.client.post(
        "/graphql", content=b'{"query":', headers={**JSON, "Authorization": f"Bearer {token}"}
    )

    assert assert_graphql_error(response, 400) == "The request is not valid JSON."


async def test_variables_nested_within_the_limit_are_executed(harness: Harness) -> None:
    # The depth limit is far above anything our inputs need (graphql-core ignores a variable
    # the operation does not declare).
    variables = {"v": json.loads(deep(20))}
    response = await harness.client.post("/graphql", json={"query": VIEWER, "variables": variables})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_body_that_is_not_json_is_a_415(harness: Harness, content_type: str) -> None:
    response = await harness.client.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}).encode(),
        headers={"content-type": content_type},
    )

    assert assert_graphql_error(response, 415) == "Send the request as application/json."


async def test_json_with_a_charset_parameter_is_accepted(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.json() == {"data": {"viewer": None}}


async def test_a_body_over_the_limit_is_a_413_graphql_error(harness: Harness) -> None:
    body = json.dumps({"query": VIEWER + " " * harness.settings.max_request_bytes}).encode()

    response = await harness.client.post("/graphql", content=body, headers=JSON)

    assert assert_graphql_error(response, 413, "PAYLOAD_TOO_LARGE") == "Request body too large."


async def test_a_bad_content_length_is_a_400_graphql_error(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql", content=b"{}", headers={**JSON, "content-length": "two"}
    )

    assert assert_graphql_error(response, 400) == "Bad Content-Length."


async def test_an_operation_name_that_matches_nothing_is_a_400(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql", json={"query": "query A { viewer { id } }", "operationName": "B"}
    )

    assert assert_graphql_error(response, 400) == 'Unknown operation named "B".'


# ---------------------------------------------------------------- GET


async def get(
    harness: Harness,
    query: str | None,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    if query is not None:
        params["query"] = query
    return await harness.client.get(
        "/graphql", params=params, headers={"Accept": "application/json", **(headers or {})}
    )


async def test_a_query_over_get_is_executed_like_a_post(harness: Harness) -> None:
    # urql and other clients send queries as GET /graphql?query=...&variables=...
    token = await harness.register("getter@example.test")
    query = "query($size: Int!) { viewer { email } gateways(pageSize: $size) { total } }"
    auth = {"Authorization": f"Bearer {token}"}

    response = await get(harness, query, headers=auth, variables='{"size": 5}')
    posted = await harness.client.post(
        "/graphql", json={"query": query, "variables": {"size": 5}}, headers=auth
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "data": {"viewer": {"email": "getter@example.test"}, "gateways": {"total": 0}}
    }
    assert response.json() == posted.json()


async def test_get_checks_the_organization_scope(harness: Harness) -> None:
    alice = await harness.register("alice-get@example.test")
    bob = await harness.register("bob-get@example.test")
    bobs_org = await harness.create_org(bob, "Bob Corp", "bob-corp")

    response = await get(
        harness,
        "{ gateways { total } }",
        headers={"Authorization": f"Bearer {alice}", "X-Organization-Id": bobs_org},
    )

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_get_applies_the_document_limits(harness: Harness) -> None:
    depth = harness.settings.graphql_max_depth
    aliases = harness.settings.graphql_max_aliases
    tokens = harness.settings.graphql_max_tokens
    too_deep = "{ organizations { " + "members { user { memberships { organization { " * 4
    too_deep += "id" + " } } } }" * 4 + " } }"
    aliased = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(aliases + 1)) + " }"
    long = "{ viewer { " + "id " * tokens + "} }"

    messages = []
    for query in (too_deep, aliased, long):
        response = await get(harness, query)
        assert response.status_code == 200
        [error] = response.json()["errors"]
        messages.append(error["message"])

    assert messages[0] == f"'anonymous' exceeds maximum operation depth of {depth}"
    assert messages[1] == f"{aliases + 1} aliases found. Allowed: {aliases}"
    assert f"more than {tokens} tokens" in messages[2]


async def test_a_get_url_over_the_size_limit_is_a_414(database_url: str, tmp_path: Path) -> None:
    # The size limit on a POST body applies to a GET's query string (a small limit here:
    # the test client itself refuses URLs over 64 KiB).
    settings = make_settings(database_url, str(tmp_path), max_request_bytes=2048)
    async with running_app(settings) as small:
        refused = await get(small, VIEWER + " " * 2048)
        served = await get(small, VIEWER + " " * 1500)

    assert assert_graphql_error(refused, 414, "URI_TOO_LONG") == "Request URL too long."
    assert served.json() == {"data": {"viewer": None}}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"variables": "{"}, "The request is not valid JSON."),
        ({"variables": deep(1000)}, "The JSON is nested too deeply."),
        ({"variables": "[1]"}, "`variables` must be an object or null."),
        ({"extensions": '"x"'}, "`extensions` must be an object or null."),
        ({"variables": '{"n": 1' + "0" * 5000 + "}"}, "The request is not valid JSON."),
    ],
)
async def test_malformed_get_parameters_are_a_400(
    harness: Harness, caplog: pytest.LogCaptureFixture, params: dict[str, str], expected: str
) -> None:
    caplog.set_level(logging.DEBUG)

    response = await get(harness, VIEWER, **params)

    assert assert_graphql_error(response, 400) == expected
    assert_quiet(caplog)


async def test_get_without_a_query_is_a_400_for_a_program(harness: Harness) -> None:
    for accept in ("application/json", "*/*"):
        response = await get(harness, None, headers={"Accept": accept})
        assert assert_graphql_error(response, 400) == (
            "The request has no GraphQL query (`query` must be a string)."
        )


@pytest.mark.parametrize(
    "query",
    [
        "mutation { logout }",
        "mutation Out { logout }",
        "  mutation {logout}",
    ],
)
async def test_a_mutation_over_get_is_a_405(harness: Harness, query: str) -> None:
    token = await harness.register("no-get-mutation@example.test")

    response = await get(harness, query, headers={"Authorization": f"Bearer {token}"})

    assert assert_graphql_error(response, 405, "METHOD_NOT_ALLOWED") == (
        "Mutations are only accepted over POST."
    )
    assert response.headers["allow"] == "POST"
    # Not executed: the token still works.
    viewer = await harness.gql("{ viewer { email } }", token=token)
    assert viewer == {"viewer": {"email": "no-get-mutation@example.test"}}


async def test_operation_name_cannot_select_a_mutation_over_get(harness: Harness) -> None:
    token = await harness.register("multi-op@example.test")
    document = "query Who { viewer { email } } mutation Out { logout }"
    auth = {"Authorization": f"Bearer {token}"}

    refused = await get(harness, document, headers=auth, operationName="Out")
    served = await get(harness, document, headers=auth, operationName="Who")

    assert assert_graphql_error(refused, 405, "METHOD_NOT_ALLOWED")
    assert served.json() == {"data": {"viewer": {"email": "multi-op@example.test"}}}
    # The same document over POST runs the mutation: GET was the only thing in the way.
    posted = await harness.client.post(
        "/graphql", json={"query": document, "operationName": "Out"}, headers=auth
    )
    assert posted.json() == {"data": {"logout": True}}


async def test_a_subscription_over_http_is_a_400(harness: Harness) -> None:
    query = "subscription { gatewayStatusChanged { status } }"

    over_get = await get(harness, query)
    over_post = await harness.client.post("/graphql", json={"query": query})

    for response in (over_get, over_post):
        assert assert_graphql_error(response, 400) == (
            "Subscriptions are served over the WebSocket (graphql-transport-ws)."
        )


# ---------------------------------------------------------------- browsers


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8"])
async def test_a_browser_opening_graphql_is_sent_to_the_explorer(
    harness: Harness, accept: str
) -> None:
    response = await harness.client.get("/graphql", headers={"Accept": accept})

    assert response.status_code == 302
    assert response.headers["location"] == "/explorer"
    # strawberry's GraphiQL (scripts from a CDN) is never served.
    assert "graphiql" not in response.text.lower()
    assert "cdn" not in response.text.lower()


async def test_a_browser_with_a_query_gets_the_result(harness: Harness) -> None:
    response = await harness.client.get(
        "/graphql", params={"query": VIEWER}, headers={"Accept": "text/html"}
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


# ---------------------------------------------------------------- response media types


async def test_graphql_response_json_answers_request_errors_with_400(harness: Harness) -> None:
    accept = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
    bad_variable = "query($n: Int) { viewer { id } }"
    not_executed = [
        ("{ viewr { id } }", {}),  # validation
        ("{ viewer { id }", {}),  # syntax
        (bad_variable, {"n": "one"}),  # variable coercion
    ]
    for query, variables in not_executed:
        response = await harness.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=accept
        )
        assert response.status_code == 400, query
        assert response.headers["content-type"] == GRAPHQL_RESPONSE
        body = response.json()
        assert "data" not in body
        assert body["errors"]

    # Executed, with an error: 200 and `data`, whatever the media type.
    executed = await harness.client.post(
        "/graphql", json={"query": "{ gateways { total } }"}, headers=accept
    )
    assert executed.status_code == 200
    assert executed.headers["content-type"] == GRAPHQL_RESPONSE
    assert executed.json()["data"] is None
    assert executed.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    ok = await get(harness, VIEWER, headers=accept)
    assert (ok.status_code, ok.headers["content-type"]) == (200, GRAPHQL_RESPONSE)
    assert ok.json() == {"data": {"viewer": None}}


@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*", f"{GRAPHQL_RESPONSE};q=0.5, application/json"]
)
async def test_application_json_keeps_the_legacy_200(harness: Harness, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}

    response = await harness.client.post(
        "/graphql", json={"query": "{ viewr { id } }"}, headers=headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None
    assert "Cannot query field 'viewr'" in response.json()["errors"][0]["message"]


async def test_a_malformed_request_is_answered_in_the_accepted_media_type(
    harness: Harness,
) -> None:
    for accept, media_type in [(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), ("*/*", "application/json")]:
        response = await harness.client.post(
            "/graphql", content=b"{", headers={**JSON, "Accept": accept}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == media_type
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_head_is_a_405_naming_the_methods_served(harness: Harness) -> None:
    response = await harness.client.head("/graphql", params={"query": VIEWER})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
