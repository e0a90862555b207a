"""The GraphQL operation names that metrics label by name; every other name counts as "other".

An operation name is chosen by the client, so labelling by it as sent would let any client create
time series without bound. These are the operations the SPA sends (`frontend-contract/`); a test
keeps this list equal to that folder, so a new SPA operation is labelled as soon as it lands.
"""

from __future__ import annotations

CONTRACT_OPERATIONS: frozenset[str] = frozenset(
    {
        "AIChat",
        "AcceptInvitation",
        "AddOrganizationMember",
        "AuditLog",
        "ChangeMemberRole",
        "ConnectGateway",
        "CreateGateway",
        "CreateOrganization",
        "DeclineInvitation",
        "DeleteGateway",
        "DisconnectGateway",
        "ExecuteGatewayAction",
        "GatewayDetail",
        "GatewayList",
        "GatewayProviders",
        "GatewayStatusChanged",
        "Login",
        "Logout",
        "MyInvitations",
        "OrganizationInvitations",
        "Organizations",
        "Register",
        "RemoveMember",
        "ResetGatewayCircuit",
        "RevokeInvitation",
        "SendTelegramMessage",
        "TelegramUpdates",
        "TestGateway",
        "UpdateGateway",
        "UpdateGatewayStatus",
        "Viewer",
    }
)
OTHER = "other"
ANONYMOUS = "anonymous"


def operation_label(name: str | None, known: frozenset[str] = CONTRACT_OPERATIONS) -> str:
    if not name:
        return ANONYMOUS
    return name if name in known else OTHER
