"""Auth through GraphQL: register, login, logout, viewer, and UNAUTHENTICATED everywhere else."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.auth.models import AuthToken
from app.auth.throttle import DEFAULT_LIMITS
from app.auth.tokens import TOKEN_PREFIX, hash_token
from app.core.clock import FakeClock, utcnow
from tests.support.harness import Harness

PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    __typename
    ... on AuthPayload { token expiresAt user { id email name createdAt } }
    ... on ValidationError { message fieldErrors { field message } }
    ... on ConflictError { message }
  }
}"""

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on AuthPayload { token expiresAt user { id email } }
    ... on InvalidCredentialsError { message }
    ... on RateLimitedError { message retryAfterSeconds }
  }
}"""

VIEWER = "query { viewer { id email name memberships { role } } }"
LOGOUT = "mutation { logout }"
NIL = "00000000-0000-7000-8000-000000000000"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


async def register(harness: Harness, email: str, password: str = PASSWORD) -> dict[str, Any]:
    data = await harness.gql(
        REGISTER, {"input": {"email": email, "password": password, "name": "Someone"}}
    )
    result: dict[str, Any] = data["register"]
    return result


async def login(harness: Harness, email: str, password: str = PASSWORD) -> dict[str, Any]:
    data = await harness.gql(LOGIN, {"input": {"email": email, "password": password}})
    result: dict[str, Any] = data["login"]
    return result


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---------------------------------------------------------------- register


async def test_register_returns_a_token_and_the_user(harness: Harness, clock: FakeClock) -> None:
    result = await register(harness, "  New.Person@Example.COM")

    assert result["__typename"] == "AuthPayload"
    assert result["token"].startswith(TOKEN_PREFIX)
    assert result["user"]["email"] == "new.person@example.com"
    assert result["user"]["name"] == "Someone"
    assert parse_time(result["expiresAt"]) == clock.now() + timedelta(hours=168)
    assert parse_time(result["user"]["createdAt"]).tzinfo is not None
    # The returned token works right away.
    data = await harness.gql(VIEWER, token=result["token"])
    assert data["viewer"]["id"] == result["user"]["id"]


async def test_register_reports_every_invalid_field(harness: Harness) -> None:
    data = await harness.gql(
        REGISTER, {"input": {"email": "nope", "password": "short", "name": " "}}
    )

    result = data["register"]
    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["email", "password", "name"]
    assert all(e["message"] for e in result["fieldErrors"])
    assert "10 to 256" in result["fieldErrors"][1]["message"]
    assert await AuthToken.all().count() == 0


async def test_register_never_echoes_the_password(harness: Harness) -> None:
    body = await harness.post(
        REGISTER, {"input": {"email": "x@example.com", "password": "pw-secret", "name": "X"}}
    )

    assert "pw-secret" not in str(body)
    assert body["data"]["register"]["__typename"] == "ValidationError"


async def test_register_twice_is_a_conflict(any_harness: Harness) -> None:
    await register(any_harness, "twice@example.com")

    result = await register(any_harness, "Twice@Example.com")

    assert result == {
        "__typename": "ConflictError",
        "message": "An account with this email already exists.",
    }


# ---------------------------------------------------------------- login


async def test_login_returns_a_new_working_token(harness: Harness) -> None:
    registered = await register(harness, "login@example.com")

    result = await login(harness, "LOGIN@example.com")

    assert result["__typename"] == "AuthPayload"
    assert result["token"] != registered["token"]
    assert result["user"]["id"] == registered["user"]["id"]
    data = await harness.gql(VIEWER, token=result["token"])
    assert data["viewer"]["email"] == "login@example.com"


async def test_wrong_password_and_unknown_email_look_the_same(harness: Harness) -> None:
    await register(harness, "known@example.com")

    wrong_password = await login(harness, "known@example.com", "not the password")
    unknown_email = await login(harness, "unknown@example.com")

    assert wrong_password == unknown_email
    assert wrong_password == {
        "__typename": "InvalidCredentialsError",
        "message": "Invalid email or password.",
    }


async def test_repeated_failures_give_rate_limited_with_retry_after(
    harness: Harness, clock: FakeClock
) -> None:
    await register(harness, "target@example.com")
    for _ in range(DEFAULT_LIMITS.per_client_email):
        assert (await login(harness, "target@example.com", "guess guess"))["__typename"] == (
            "InvalidCredentialsError"
        )

    throttled = await login(harness, "target@example.com")

    assert throttled["__typename"] == "RateLimitedError"
    assert 0 < throttled["retryAfterSeconds"] <= 15 * 60
    clock.advance(throttled["retryAfterSeconds"] + 1)
    assert (await login(harness, "target@example.com"))["__typename"] == "AuthPayload"


# ---------------------------------------------------------------- viewer


async def test_viewer_is_null_without_a_token(harness: Harness) -> None:
    body = await harness.post(VIEWER)

    assert body == {"data": {"viewer": None}}


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN_PREFIX}{'A' * 43}",  # well-formed, unknown
        "Bearer not-our-token-format",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        f"Bearer {TOKEN_PREFIX}{'A' * 200}",  # too long to be ours
    ],
)
async def test_viewer_is_null_with_a_bad_token(harness: Harness, authorization: str) -> None:
    await harness.register("real@example.com")

    response = await harness.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": authorization}
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_the_bearer_scheme_is_case_insensitive(harness: Harness) -> None:
    token = await harness.register("scheme@example.com")

    response = await harness.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"bearer  {token}"}
    )

    assert response.json()["data"]["viewer"]["email"] == "scheme@example.com"


async def test_viewer_is_null_once_the_token_expires(harness: Harness, clock: FakeClock) -> None:
    token = await harness.register("expiring@example.com")

    clock.advance(timedelta(hours=168).total_seconds() - 1)
    assert (await harness.gql(VIEWER, token=token))["viewer"] is not None
    clock.advance(1)
    assert (await harness.gql(VIEWER, token=token))["viewer"] is None


async def test_viewer_of_a_new_user_has_no_memberships(harness: Harness) -> None:
    token = await harness.register("fresh@example.com")

    data = await harness.gql(VIEWER, token=token)

    assert data["viewer"]["memberships"] == []
    assert data["viewer"]["email"] == "fresh@example.com"


# ---------------------------------------------------------------- logout


async def test_logout_revokes_the_calling_token(harness: Harness) -> None:
    token = await harness.register("leaving@example.com")
    other = (await login(harness, "leaving@example.com"))["token"]

    assert await harness.gql(LOGOUT, token=token) == {"logout": True}

    assert (await harness.gql(VIEWER, token=token))["viewer"] is None
    assert (await harness.gql(VIEWER, token=other))["viewer"] is not None
    row = await AuthToken.get(token_hash=hash_token(token))
    assert row.revoked_at is not None
    # The revoked token can do nothing, logging out again included.
    body = await harness.post(LOGOUT, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await harness.post("{ organizations { id } }", token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---------------------------------------------------------------- UNAUTHENTICATED

PROTECTED = [
    ("organizations", "query { organizations { id } }"),
    ("gateways", "query { gateways { total } }"),
    ("gateway", f'query {{ gateway(id: "{NIL}") {{ id }} }}'),
    ("auditEvents", "query { auditEvents { id } }"),
    ("logout", "mutation { logout }"),
    (
        "createOrganization",
        'mutation { createOrganization(input: {name: "Acme"}) { __typename } }',
    ),
    (
        "addOrganizationMember",
        f'mutation {{ addOrganizationMember(input: {{organizationId: "{NIL}", '
        'email: "a@example.com", role: MEMBER}) { __typename } }',
    ),
    (
        "createGateway",
        'mutation { createGateway(input: {name: "g", type: WEBHOOK, credentials: '
        '{webhook: {url: "https://hooks.example.com/x"}}}) { __typename } }',
    ),
    (
        "updateGateway",
        f'mutation {{ updateGateway(id: "{NIL}", input: {{name: "n"}}) {{ __typename }} }}',
    ),
    (
        "updateGatewayStatus",
        f'mutation {{ updateGatewayStatus(id: "{NIL}", status: CONNECTED) {{ __typename }} }}',
    ),
    ("deleteGateway", f'mutation {{ deleteGateway(id: "{NIL}") {{ __typename }} }}'),
    ("connectGateway", f'mutation {{ connectGateway(id: "{NIL}") {{ __typename }} }}'),
    ("testGateway", f'mutation {{ testGateway(id: "{NIL}") {{ __typename }} }}'),
    (
        "resetGatewayCircuit",
        f'mutation {{ resetGatewayCircuit(id: "{NIL}") {{ __typename }} }}',
    ),
]


@pytest.mark.parametrize("token", [None, f"{TOKEN_PREFIX}{'Z' * 43}"], ids=["none", "bad"])
@pytest.mark.parametrize(("field", "query"), PROTECTED, ids=[f for f, _ in PROTECTED])
async def test_protected_fields_need_a_token(
    harness: Harness, field: str, query: str, token: str | None
) -> None:
    body = await harness.post(query, token=token)

    # Non-null fields null the whole `data`; the nullable `gateway` is null on its own.
    assert body["data"] is None or body["data"] == {field: None}
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "Authentication required."
    assert error["path"] == [field]


async def test_unauthenticated_wins_over_an_organization_header(harness: Harness) -> None:
    body = await harness.post("query { gateways { total } }", org=NIL)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unauthenticated_call_changes_nothing(harness: Harness) -> None:
    owner = await harness.register("owner@example.com")

    body = await harness.post(
        'mutation { createOrganization(input: {name: "Sneaky"}) { __typename } }'
    )

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await harness.gql("{ organizations { id } }", token=owner))["organizations"] == []


async def test_public_operations_work_without_a_token(harness: Harness) -> None:
    registered = await register(harness, "public@example.com")
    logged_in = await login(harness, "public@example.com")
    data = await harness.gql(
        "query { viewer { id } gatewayProviders { type name actions { name } aiProviders } }"
    )

    assert registered["__typename"] == "AuthPayload"
    assert logged_in["__typename"] == "AuthPayload"
    assert data["viewer"] is None
    providers = {p["type"]: p for p in data["gatewayProviders"]}
    assert set(providers) == {"TELEGRAM_BOT", "AI", "WEBHOOK"}
    assert "OPENAI" in providers["AI"]["aiProviders"]
    assert providers["WEBHOOK"]["aiProviders"] == []
