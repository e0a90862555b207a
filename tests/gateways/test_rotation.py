"""Re-encrypting gateway credentials with the active key (app/gateways/rotation.py)."""

from __future__ import annotations

from uuid import UUID

import pytest

from app.core.crypto import DecryptionError, EncryptionKey, KeyRing, generate_key, parse_keys
from app.gateways.credentials import Credentials
from app.gateways.models import Gateway
from app.gateways.rotation import RotationReport, rotate_keys
from app.gateways.vault import CredentialVault
from tests.support.harness import TEST_KEY, Harness

OLD_KEY = parse_keys(TEST_KEY)[0]
NEW_KEY = generate_key("k2")

CREATE = """
mutation($input: CreateGatewayInput!) {
  createGateway(input: $input) { __typename ... on Gateway { id } ... on Error { message } }
}"""

CREDENTIALS = [
    ("TELEGRAM_BOT", {"telegramBot": {"botToken": "123456789:" + "A" * 30 + "bcdef"}}),
    ("AI", {"ai": {"provider": "OPENAI", "apiKey": "sk-test-0123456789abcdef"}}),
    (
        "WEBHOOK",
        {"webhook": {"url": "https://hooks.example.com/in", "signingSecret": "whsec_" + "s" * 32}},
    ),
]


def vault_of(*keys: EncryptionKey) -> CredentialVault:
    return CredentialVault(KeyRing(list(keys)))


async def create_gateways(harness: Harness, count: int) -> list[UUID]:
    token = await harness.register("rotator@example.com")
    ids = []
    for n in range(count):
        gateway_type, credentials = CREDENTIALS[n % len(CREDENTIALS)]
        data = await harness.gql(
            CREATE,
            {"input": {"name": f"gw {n}", "type": gateway_type, "credentials": credentials}},
            token=token,
        )
        assert data["createGateway"]["__typename"] == "Gateway", data
        ids.append(UUID(data["createGateway"]["id"]))
    return ids


async def snapshot() -> dict[UUID, tuple[bytes, str]]:
    return {
        g.id: (bytes(g.credentials_ciphertext), g.credentials_key_id) for g in await Gateway.all()
    }


async def plaintexts(vault: CredentialVault) -> dict[UUID, Credentials]:
    return {g.id: vault.open(g) for g in await Gateway.all()}


async def test_rotation_re_encrypts_every_gateway_under_the_active_key(
    any_harness: Harness,
) -> None:
    ids = await create_gateways(any_harness, 3)
    before = await plaintexts(any_harness.services.gateways.vault)
    assert {key_id for _, key_id in (await snapshot()).values()} == {OLD_KEY.key_id}

    report = await rotate_keys(vault_of(NEW_KEY, OLD_KEY))

    assert report == RotationReport(total=3, rotated=3, undecryptable=0, skipped_concurrent=0)
    assert report.remaining == 0
    rows = await Gateway.filter(id__in=ids)
    assert {g.credentials_key_id for g in rows} == {NEW_KEY.key_id}
    # Really under the new key: a ring holding only the new key opens every row...
    assert await plaintexts(vault_of(NEW_KEY)) == before
    for row in rows:
        assert KeyRing([NEW_KEY]).key_id_of(bytes(row.credentials_ciphertext)) == NEW_KEY.key_id
        # ...and the old key alone no longer does.
        with pytest.raises(DecryptionError):
            any_harness.services.gateways.vault.open(row)


async def test_a_dry_run_only_counts(any_harness: Harness) -> None:
    await create_gateways(any_harness, 2)
    before = await snapshot()

    report = await rotate_keys(vault_of(NEW_KEY, OLD_KEY), dry_run=True)

    assert report.total == 2
    assert report.rotated == 0
    assert report.remaining == 2
    assert await snapshot() == before


async def test_a_second_run_rotates_nothing(any_harness: Harness) -> None:
    await create_gateways(any_harness, 3)
    vault = vault_of(NEW_KEY, OLD_KEY)
    await rotate_keys(vault)
    after_first = await snapshot()

    again = await rotate_keys(vault)

    assert again == RotationReport(total=0, rotated=0)
    assert await snapshot() == after_first


async def test_nothing_to_do_when_the_active_key_did_not_change(any_harness: Harness) -> None:
    await create_gateways(any_harness, 2)
    before = await snapshot()

    report = await rotate_keys(vault_of(OLD_KEY, NEW_KEY))

    assert report == RotationReport(total=0)
    assert await snapshot() == before


async def test_undecryptable_rows_are_counted_and_left_alone(any_harness: Harness) -> None:
    good, lost, swapped, _ = await create_gateways(any_harness, 4)
    # One row sealed under a key nobody has any more; one holding another row's ciphertext.
    lost_key = generate_key("lost")
    lost_row = await Gateway.get(id=lost)
    lost_ciphertext, _ = vault_of(lost_key).seal(lost, vault_of(OLD_KEY).open(lost_row))
    await Gateway.filter(id=lost).update(
        credentials_ciphertext=lost_ciphertext, credentials_key_id=lost_key.key_id
    )
    good_row = await Gateway.get(id=good)
    await Gateway.filter(id=swapped).update(credentials_ciphertext=good_row.credentials_ciphertext)
    before = await snapshot()
    vault = vault_of(NEW_KEY, OLD_KEY)

    report = await rotate_keys(vault)

    assert report.total == 4
    assert report.rotated == 2
    assert report.undecryptable == 2
    assert report.remaining == 2
    after = await snapshot()
    assert after[lost] == before[lost]
    assert after[swapped] == before[swapped]
    assert after[good][1] == NEW_KEY.key_id
    # A later run finds the same two and still cannot do anything with them.
    again = await rotate_keys(vault)
    assert (again.total, again.rotated, again.undecryptable) == (2, 0, 2)


async def test_rotation_walks_all_batches_and_reports_progress(any_harness: Harness) -> None:
    await create_gateways(any_harness, 5)
    seen: list[tuple[int, int]] = []

    def progress(report: RotationReport) -> None:
        seen.append((report.rotated, report.total))

    report = await rotate_keys(vault_of(NEW_KEY, OLD_KEY), batch_size=2, progress=progress)

    assert report.rotated == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert {key_id for _, key_id in (await snapshot()).values()} == {NEW_KEY.key_id}


class RacingVault(CredentialVault):
    """Simulates a credential update landing between rotation's read and its write."""

    def __init__(self, keyring: KeyRing, victim: UUID) -> None:
        super().__init__(keyring)
        self.victim = victim

    def open(self, gateway: Gateway) -> Credentials:
        credentials = super().open(gateway)
        if gateway.id == self.victim:
            # What rotation read is no longer what the row holds.
            gateway.credentials_ciphertext = b"stale read"
        return credentials


async def test_a_row_changed_meanwhile_is_not_overwritten(any_harness: Harness) -> None:
    victim, other = await create_gateways(any_harness, 2)
    before = await snapshot()

    report = await rotate_keys(RacingVault(KeyRing([NEW_KEY, OLD_KEY]), victim))

    assert report.rotated == 1
    assert report.skipped_concurrent == 1
    assert report.remaining == 1
    after = await snapshot()
    assert after[victim] == before[victim]
    assert after[other][1] == NEW_KEY.key_id
