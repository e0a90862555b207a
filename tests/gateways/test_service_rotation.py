"""GatewayService.rotate_signing_secret and the secret kept on update, on the service: exact
refusals, the audit record and log event, what stays unchanged, and undecryptable credentials.

Found unasserted by a mutation run of app/gateways/service.py.
"""

from __future__ import annotations

import logging
from uuid import UUID

import pytest

from app.audit.models import AuditEvent
from app.auth.models import User
from app.errors import FieldIssue, ForbiddenError, NotFoundError, ValidationFailedError
from app.gateways.credentials import TelegramBotCredentials, WebhookCredentials
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput, UpdateGatewayInput
from app.gateways.models import Gateway
from app.gateways.service import GatewayService
from app.organizations.models import OrganizationRole
from app.providers.webhook.signing import secret_problem
from app.service_context import ServiceContext
from tests.support.harness import Harness

SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "https://hooks.example.com/in"


def webhook(secret: str | None = SIGNING, url: str = URL) -> CredentialsInput:
    return CredentialsInput(webhook=WebhookCredentials(url=url, signing_secret=secret))


async def owner(h: Harness) -> tuple[GatewayService, ServiceContext]:
    await h.register("owner@example.com")
    user = await User.get(email="owner@example.com")
    return h.services.gateways, ServiceContext(user_id=user.id)


async def new_hook(service: GatewayService, ctx: ServiceContext) -> Gateway:
    data = CreateGatewayInput(name="hook", type=GatewayType.WEBHOOK, credentials=webhook())
    return await service.create(ctx, data)


async def corrupt(gateway_id: UUID) -> bytes:
    row = await Gateway.get(id=gateway_id)
    broken = row.credentials_ciphertext[:-1] + bytes([row.credentials_ciphertext[-1] ^ 1])
    await Gateway.filter(id=gateway_id).update(credentials_ciphertext=broken)
    return broken


async def test_rotation_replaces_only_the_secret_audits_and_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)
    await Gateway.filter(id=hook.id).update(status=GatewayStatus.CONNECTED)

    with caplog.at_level(logging.INFO, logger="app.gateways"):
        saved = await service.rotate_signing_secret(ctx, hook.id)

    assert saved.revealed_signing_secret is not None
    assert secret_problem(saved.revealed_signing_secret) is None
    row = await Gateway.get(id=hook.id)
    assert service.vault.open(row) == WebhookCredentials(
        url=URL, signing_secret=saved.revealed_signing_secret
    )
    assert row.status is GatewayStatus.CONNECTED  # same target: no reconnect needed
    assert row.updated_at > hook.updated_at
    event = await AuditEvent.get(action="gateway.signing_secret.rotate")
    assert (event.gateway_id, event.metadata) == (hook.id, {})
    [record] = [r for r in caplog.records if r.getMessage() == "gateway.signing_secret.rotated"]
    assert record.__dict__["gateway_id"] == str(hook.id)
    assert saved.revealed_signing_secret not in caplog.text


async def test_rotation_of_a_non_webhook_gateway_is_refused(harness: Harness) -> None:
    service, ctx = await owner(harness)
    bot = await service.create(
        ctx,
        CreateGatewayInput(
            name="bot",
            type=GatewayType.TELEGRAM_BOT,
            credentials=CredentialsInput(
                telegram_bot=TelegramBotCredentials(bot_token="123456789:" + "A" * 35)
            ),
        ),
    )

    with pytest.raises(ValidationFailedError) as info:
        await service.rotate_signing_secret(ctx, bot.id)

    assert info.value.issues == [FieldIssue("id", "Only a webhook gateway has a signing secret.")]


async def test_rotation_of_undecryptable_credentials_asks_for_them_again(
    harness: Harness,
) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)
    broken = await corrupt(hook.id)

    with pytest.raises(ValidationFailedError) as info:
        await service.rotate_signing_secret(ctx, hook.id)

    assert info.value.issues == [
        FieldIssue(
            "id",
            "The stored credentials cannot be decrypted; enter them again with updateGateway.",
        )
    ]
    assert (await Gateway.get(id=hook.id)).credentials_ciphertext == broken


async def test_a_member_may_not_rotate_and_is_told_so(harness: Harness) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)
    # Same personal scope, read-only role: the role check itself refuses.
    member = ServiceContext(user_id=ctx.user_id, role=OrganizationRole.MEMBER)

    with pytest.raises(ForbiddenError) as info:
        await service.rotate_signing_secret(member, hook.id)

    assert str(info.value) == "Your role (MEMBER) may not rotate signing secrets here."


async def test_rotation_of_a_gateway_deleted_meanwhile_is_not_found(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)
    original = service.require

    async def delete_after_read(c: ServiceContext, gateway_id: UUID | None) -> Gateway:
        found = await original(c, gateway_id)
        await Gateway.filter(id=found.id).delete()  # lands before the locked re-read
        return found

    monkeypatch.setattr(service, "require", delete_after_read)
    with pytest.raises(NotFoundError) as info:
        await service.rotate_signing_secret(ctx, hook.id)

    assert str(info.value) == "Gateway not found."


async def test_new_webhook_credentials_over_undecryptable_ones_get_a_revealed_secret(
    harness: Harness,
) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)
    await corrupt(hook.id)

    saved = await service.update_revealing(
        ctx, hook.id, UpdateGatewayInput(credentials=webhook(None, url=URL + "/moved"))
    )

    assert saved.revealed_signing_secret is not None
    assert service.vault.open(await Gateway.get(id=hook.id)) == WebhookCredentials(
        url=URL + "/moved", signing_secret=saved.revealed_signing_secret
    )


async def test_new_webhook_credentials_without_a_secret_keep_the_stored_one(
    harness: Harness,
) -> None:
    service, ctx = await owner(harness)
    hook = await new_hook(service, ctx)

    saved = await service.update_revealing(
        ctx, hook.id, UpdateGatewayInput(credentials=webhook(None, url=URL + "/moved"))
    )

    assert saved.revealed_signing_secret is None
    assert service.vault.open(await Gateway.get(id=hook.id)) == WebhookCredentials(
        url=URL + "/moved", signing_secret=SIGNING
    )
