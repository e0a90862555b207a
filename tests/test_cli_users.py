"""`create-user` and `demo` (app/cli.py, app/seed.py), run as real subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.auth.models import User
from app.gateways.models import Gateway, GatewayStatus
from app.organizations.models import Membership, OrganizationRole
from tests.support.harness import TEST_KEY, Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams
from tests.test_cli import cli_env

PASSWORD = "a long enough password"
LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  __typename ... on AuthPayload { token } } }"""
VIEWER = "{ viewer { email memberships { role organization { slug } } } }"


def run(
    tmp_path: Path, database_url: str, *args: str, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-m", "app", *args],
        cwd=tmp_path,
        env=cli_env(tmp_path, DATABASE_URL=database_url, ENCRYPTION_KEYS=TEST_KEY, **settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def login(database_url: str, tmp_path: Path, email: str, password: str) -> dict[str, object]:
    """Log in through the API: what the command made is an ordinary account."""
    async with running_app(make_settings(database_url, str(tmp_path))) as harness:
        data = await harness.gql(LOGIN, {"input": {"email": email, "password": password}})
        result: dict[str, object] = data["login"]
        if result["__typename"] == "AuthPayload":
            token = result["token"]
            assert isinstance(token, str)
            result["user"] = (await harness.gql(VIEWER, token=token))["viewer"]
    return result


# ---------------------------------------------------------------- create-user


async def test_create_user_reads_the_password_from_stdin(tmp_path: Path, database_url: str) -> None:
    result = run(
        tmp_path,
        database_url,
        "create-user",
        " Ann@Example.com ",
        "--name",
        "Ann",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("created user ann@example.com (id ")
    assert PASSWORD not in result.stdout + result.stderr
    logged_in = await login(database_url, tmp_path, "ann@example.com", PASSWORD)
    assert logged_in["__typename"] == "AuthPayload"


async def test_create_user_takes_the_password_from_the_environment(
    tmp_path: Path, database_url: str
) -> None:
    result = run(
        tmp_path, database_url, "create-user", "env@example.com", APP_USER_PASSWORD=PASSWORD
    )

    assert result.returncode == 0, result.stderr
    assert (await login(database_url, tmp_path, "env@example.com", PASSWORD))["__typename"] == (
        "AuthPayload"
    )
    async with running_app(make_settings(database_url, str(tmp_path))):
        assert (await User.get(email="env@example.com")).name == "env"  # the email's local part


async def test_a_generated_password_is_printed_once_and_works(
    tmp_path: Path, database_url: str
) -> None:
    result = run(tmp_path, database_url, "create-user", "gen@example.com", "--generate-password")

    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("password: ")]
    password = line.removeprefix("password: ")
    assert len(password) >= 20
    assert (await login(database_url, tmp_path, "gen@example.com", password))["__typename"] == (
        "AuthPayload"
    )


def test_without_a_password_source_nothing_is_created(tmp_path: Path, database_url: str) -> None:
    # stdin is not a terminal here, so there is nobody to prompt.
    result = run(tmp_path, database_url, "create-user", "nopass@example.com")

    assert result.returncode == 2
    assert "no password: use --password-stdin, APP_USER_PASSWORD or --generate-password" in (
        result.stderr
    )
    assert result.stdout == ""


def test_the_password_is_not_an_argument(tmp_path: Path, database_url: str) -> None:
    result = run(tmp_path, database_url, "create-user", "x@example.com", "--password", PASSWORD)

    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        ("not-an-email", PASSWORD, "email: "),
        ("short@example.com", "short", "password: Use 10 to 256 characters."),
    ],
)
def test_invalid_input_is_one_line_and_exit_1(
    tmp_path: Path, database_url: str, email: str, stdin: str, message: str
) -> None:
    result = run(tmp_path, database_url, "create-user", email, "--password-stdin", stdin=stdin)

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_an_existing_user_becomes_owner_of_a_new_organization(
    tmp_path: Path, database_url: str
) -> None:
    created = run(
        tmp_path,
        database_url,
        "create-user",
        "own@example.com",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert created.returncode == 0, created.stderr

    again = run(tmp_path, database_url, "create-user", "own@example.com")
    assert again.returncode == 1
    assert "exists already" in again.stderr

    promoted = run(
        tmp_path, database_url, "create-user", "OWN@example.com", "--organization", "Acme Corp"
    )
    assert promoted.returncode == 0, promoted.stderr
    assert "with own@example.com as OWNER" in promoted.stdout
    taken = run(
        tmp_path,
        database_url,
        "create-user",
        "own@example.com",
        "--organization",
        "Other",
        "--slug",
        "acme-corp",
    )
    assert taken.returncode == 1
    assert "The slug 'acme-corp' is taken." in taken.stderr

    logged_in = await login(database_url, tmp_path, "own@example.com", PASSWORD)
    user = logged_in["user"]
    assert isinstance(user, dict)
    assert user["memberships"] == [{"role": "OWNER", "organization": {"slug": "acme-corp"}}]


# ---------------------------------------------------------------- demo


async def test_demo_fills_the_database_once(tmp_path: Path, database_url: str) -> None:
    first = run(tmp_path, database_url, "demo", APP_ENV="development")

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "demo data created"
    prefix = "  log in as demo@example.com with the password "
    (credentials,) = [line for line in lines if line.startswith(prefix)]
    password = credentials.removeprefix(prefix)
    assert "3 TELEGRAM_BOT, 3 AI, 3 WEBHOOK" in first.stdout

    second = run(tmp_path, database_url, "demo", APP_ENV="development")
    assert second.returncode == 1
    assert "the demo data exists already (demo@example.com); nothing changed" in second.stderr

    logged_in = await login(database_url, tmp_path, "demo@example.com", password)
    user = logged_in["user"]
    assert isinstance(user, dict)
    assert user["memberships"] == [{"role": "OWNER", "organization": {"slug": "demo"}}]
    async with running_app(make_settings(database_url, str(tmp_path))):
        assert await Gateway.all().count() == 9  # one set, not two
        assert await Membership.filter(role=OrganizationRole.OWNER).count() == 1


def test_demo_refuses_production(tmp_path: Path, database_url: str) -> None:
    result = run(tmp_path, database_url, "demo", APP_ENV="production")

    assert result.returncode == 2
    assert result.stderr.strip().endswith("demo refuses to run with APP_ENV=production")
    assert result.stdout == ""


async def test_demo_gateways_are_real_encrypted_rows_and_call_no_upstream(
    harness: Harness, upstreams: FakeUpstreams
) -> None:
    from app.seed import DEMO_EMAIL, seed_demo

    data = await seed_demo(harness.services)

    assert upstreams.requests == []
    gateways = await Gateway.all()
    assert len(gateways) == 9
    assert {g.status for g in gateways} == {GatewayStatus.DISCONNECTED}
    personal = [g for g in gateways if g.organization_id is None]  # type: ignore[attr-defined]
    assert len(personal) == 3
    assert {g.organization_id for g in gateways} - {None} == {data.organization.id}  # type: ignore[attr-defined]
    vault = harness.services.gateways.vault
    for gateway in gateways:
        credentials = vault.open(gateway)
        secret = getattr(credentials, "bot_token", None) or getattr(credentials, "api_key", None)
        if secret:
            assert secret.encode() not in bytes(gateway.credentials_ciphertext)
    owner = await User.get(email=DEMO_EMAIL)
    assert {g.owner_id for g in gateways} == {owner.id}  # type: ignore[attr-defined]
