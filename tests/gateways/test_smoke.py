from __future__ import annotations

from tests.support.harness import Harness

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename
  ... on Gateway { id name status credentialInfo { __typename ... on TelegramBotCredentialInfo { botTokenHint } } owner { email } organization { id } }
  ... on ValidationError { fieldErrors { field message } }
} }"""


async def test_create_and_list_gateway(any_harness: Harness) -> None:
    token = await any_harness.register("alice@example.com")
    data = await any_harness.gql(
        CREATE,
        {
            "input": {
                "name": " Bot ",
                "type": "TELEGRAM_BOT",
                "credentials": {"telegramBot": {"botToken": "123456789:" + "a" * 35}},
            }
        },
        token=token,
    )
    gw = data["createGateway"]
    assert gw["__typename"] == "Gateway"
    assert gw["name"] == "Bot"
    assert gw["credentialInfo"]["botTokenHint"] == "123456789:\u2026aaaa"
    assert gw["owner"]["email"] == "alice@example.com"
    listed = await any_harness.gql("{ gateways { total items { id } } }", token=token)
    assert listed["gateways"]["total"] == 1
