"""The application under test, driven in-process through its ASGI interface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.config import Settings
from app.container import Services
from app.core.clock import Clock
from app.main import create_app
from app.observability.setup import Observability

TEST_KEY = "test1:" + "A" * 43 + "="  # 32 zero-ish bytes, base64; never used outside tests


def make_settings(database_url: str, data_dir: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "encryption_keys": TEST_KEY,
        "public_base_url": "https://gateway.example.test",
        "telegram_api_base_url": "https://api.telegram.test",
        "redis_url": None,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class GraphQLErrors(AssertionError):
    pass


@dataclass
class Harness:
    app: Starlette
    client: httpx.AsyncClient
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        org: str | None = None,
    ) -> dict[str, Any]:
        """The raw GraphQL response body (data and errors)."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if org:
            headers["X-Organization-Id"] = org
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        org: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no top-level errors."""
        body = await self.post(query, variables, token=token, org=org)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    async def register(self, email: str, name: str = "Test User") -> str:
        data = await self.gql(
            """mutation($input: RegisterInput!) { register(input: $input) {
                 __typename ... on AuthPayload { token } } }""",
            {"input": {"email": email, "password": "correct horse battery", "name": name}},
        )
        token: str = data["register"]["token"]
        self.tokens[email] = token
        return token

    async def create_org(self, token: str, name: str, slug: str | None = None) -> str:
        data = await self.gql(
            """mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) {
                 __typename ... on Organization { id } } }""",
            {"input": {"name": name, "slug": slug}},
            token=token,
        )
        org_id: str = data["createOrganization"]["id"]
        return org_id

    async def invite(self, token: str, org_id: str, email: str, role: str) -> dict[str, Any]:
        """`addOrganizationMember`: an invitation, or the error member (with its message)."""
        data = await self.gql(
            """mutation($input: AddOrganizationMemberInput!) {
                 addOrganizationMember(input: $input) {
                   __typename ... on OrganizationInvitation { id } ... on Error { message } } }""",
            {"input": {"organizationId": org_id, "email": email, "role": role}},
            token=token,
        )
        result: dict[str, Any] = data["addOrganizationMember"]
        return result

    async def add_member(self, token: str, org_id: str, email: str, role: str) -> dict[str, Any]:
        """Invite a registered user (registered through this harness) and accept as them: the
        accepted `Membership` (`{"__typename": "Membership"}`), or the error member."""
        invited = await self.invite(token, org_id, email, role)
        if invited["__typename"] != "OrganizationInvitation":
            return invited
        data = await self.gql(
            """mutation($id: ID!) { acceptInvitation(id: $id) {
                 __typename ... on Error { message } } }""",
            {"id": invited["id"]},
            token=self.tokens[email],
        )
        result: dict[str, Any] = data["acceptInvitation"]
        return result


@asynccontextmanager
async def running_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    observability: Observability | None = None,
) -> AsyncIterator[Harness]:
    # Tortoise caches compiled INSERT/DELETE statements per connection *name*, not per dialect:
    # after a SQLite test, a PostgreSQL test would reuse `?` placeholders. One process of the
    # real server talks to one database, so only a test run that alternates engines needs this.
    EXECUTOR_CACHE.clear()
    app = create_app(
        settings,
        clock=clock,
        upstream_transport=upstream_transport,
        run_health_checker=False,
        observability=observability,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(app=app, client=client, settings=settings)
