"""GatewayService create / update / set_status, on the service: stored fields, audit records,
validation edges, the status after new credentials, and the constructor's defaults.

Found unasserted by a mutation run of app/gateways/service.py.
"""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.auth.models import User
from app.errors import FieldIssue, ValidationFailedError
from app.gateways.credentials import TelegramBotCredentials, WebhookCredentials
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput, UpdateGatewayInput
from app.gateways.models import Gateway
from app.gateways.service import GatewayService
from app.service_context import ServiceContext
from tests.support.harness import Harness

TOKEN = "123456789:" + "A" * 35
OTHER_TOKEN = "987654321:" + "B" * 35


def bot(name: str = "bot", config: object = None) -> CreateGatewayInput:
    return CreateGatewayInput(
        name=name,
        type=GatewayType.TELEGRAM_BOT,
        credentials=CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=TOKEN)),
        config=config,
    )


NEW_CREDENTIALS = CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=OTHER_TOKEN))


async def owner(h: Harness) -> tuple[GatewayService, ServiceContext]:
    await h.register("owner@example.com")
    user = await User.get(email="owner@example.com")
    return h.services.gateways, ServiceContext(user_id=user.id)


async def last_event(action: str) -> AuditEvent:
    event = await AuditEvent.filter(action=action).order_by("-created_at", "-id").first()
    assert event is not None
    return event


async def test_create_stores_the_row_and_audits_type_and_name(harness: Harness) -> None:
    service, ctx = await owner(harness)

    created = await service.create(ctx, bot("  Support  "))

    row = await Gateway.get(id=created.id)
    assert (row.name, row.type, row.config) == ("Support", GatewayType.TELEGRAM_BOT, {})
    assert (row.owner_id, row.organization_id) == (ctx.user_id, None)
    event = await last_event("gateway.create")
    assert event.gateway_id == created.id
    assert event.metadata == {"type": "TELEGRAM_BOT", "name": "Support"}


async def test_create_with_a_bad_name_alone_is_refused(harness: Harness) -> None:
    service, ctx = await owner(harness)

    with pytest.raises(ValidationFailedError) as info:
        await service.create(ctx, bot("   "))

    assert [issue.field for issue in info.value.issues] == ["name"]
    assert await Gateway.all().count() == 0


async def test_update_audits_only_what_changed(harness: Harness) -> None:
    service, ctx = await owner(harness)
    created = await service.create(ctx, bot("bot"))

    await service.update(ctx, created.id, UpdateGatewayInput(name="bot"))
    same_name = await last_event("gateway.update")
    await service.update(ctx, created.id, UpdateGatewayInput(name="renamed", config={"a": 1}))
    renamed = await last_event("gateway.update")

    assert same_name.metadata == {
        "nameChanged": False,
        "credentialsChanged": False,
        "configChanged": False,
    }
    assert renamed.metadata == {
        "nameChanged": True,
        "credentialsChanged": False,
        "configChanged": True,
    }
    row = await Gateway.get(id=created.id)
    assert (row.name, row.config) == ("renamed", {"a": 1})
    assert row.updated_at > created.updated_at


async def test_new_credentials_disconnect_a_connected_gateway(harness: Harness) -> None:
    service, ctx = await owner(harness)
    created = await service.create(ctx, bot())
    await Gateway.filter(id=created.id).update(status=GatewayStatus.CONNECTED)

    updated = await service.update(ctx, created.id, UpdateGatewayInput(credentials=NEW_CREDENTIALS))

    assert updated.status is GatewayStatus.DISCONNECTED  # the returned row, not a stale one
    assert (await Gateway.get(id=created.id)).status is GatewayStatus.DISCONNECTED
    change = await last_event("gateway.status_change")
    assert change.metadata["cause"] == "credentials_changed"
    assert (await last_event("gateway.update")).metadata["credentialsChanged"] is True


async def test_new_credentials_of_a_disconnected_gateway_change_no_status(
    harness: Harness,
) -> None:
    service, ctx = await owner(harness)
    created = await service.create(ctx, bot())

    updated = await service.update(ctx, created.id, UpdateGatewayInput(credentials=NEW_CREDENTIALS))

    assert updated.status is GatewayStatus.DISCONNECTED
    assert await AuditEvent.filter(action="gateway.status_change").count() == 0


async def test_a_status_error_of_1000_characters_is_the_longest_accepted(
    harness: Harness,
) -> None:
    service, ctx = await owner(harness)
    created = await service.create(ctx, bot())

    with pytest.raises(ValidationFailedError) as info:
        await service.set_status(ctx, created.id, GatewayStatus.ERROR, "e" * 1001)
    changed = await service.set_status(ctx, created.id, GatewayStatus.ERROR, "e" * 1000)

    assert info.value.issues == [FieldIssue("error", "Use at most 1000 characters.")]
    assert changed.status is GatewayStatus.ERROR


async def test_by_default_there_is_no_quota_and_private_targets_are_allowed(
    harness: Harness,
) -> None:
    configured, ctx = await owner(harness)
    service = GatewayService(vault=configured.vault, status=configured.status)
    private = CreateGatewayInput(
        name="local",
        type=GatewayType.WEBHOOK,
        credentials=CredentialsInput(webhook=WebhookCredentials(url="http://127.0.0.1:9/in")),
    )

    for name in ("one", "two", "three"):
        await service.create(ctx, bot(name))
    local = await service.create(ctx, private)
    # No hook registered on this instance: replacing credentials notifies nobody, and works.
    await service.update(ctx, local.id, UpdateGatewayInput(credentials=private.credentials))

    assert await Gateway.all().count() == 4
