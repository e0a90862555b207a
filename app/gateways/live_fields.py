"""Which fields of a status event may be executed once and shared by a whole tenant scope."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from app.graphql.shared_execution import FieldSet, SharedOperation

# Fields whose value depends only on the event and the tenant scope, never on who is looking.
# Anything not listed (Organization.viewerRole, Organization.members, User.memberships,
# Gateway.auditEvents, and any field added later) makes a document group per viewer instead;
# tests/gateways/test_live.py fails until a new field reachable from here is put on one side.
#
# `owner` and `organization` are read through loaders bound to one subscriber of the group. They
# are the same for every member of the scope because a gateway's owner is always visible to
# whoever may see the gateway (app/gateways/nodes.py): an organization's gateways are created by
# its members, and a member removed since stays visible there as the owner of those gateways
# (`Loaders._load_users`).
SCOPE_SHARED_FIELDS: FieldSet = {
    "Subscription": frozenset({"gatewayStatusChanged"}),
    "GatewayStatusEvent": frozenset({"gateway", "previousStatus", "status", "error", "occurredAt"}),
    "Gateway": frozenset(
        {
            "id",
            "name",
            "type",
            "status",
            "config",
            "lastConnectedAt",
            "lastErrorAt",
            "lastError",
            "createdAt",
            "updatedAt",
            "owner",
            "organization",
            "credentialInfo",
            "circuit",
            "supportedActions",
            # Always null here: only the response of the mutation that generated a secret
            # carries it (app/gateways/resolvers.py); events are built from stored rows.
            "revealedSigningSecret",
        }
    ),
    "User": frozenset({"id", "email", "name", "createdAt"}),
    "Organization": frozenset({"id", "name", "slug", "createdAt"}),
    "TelegramBotCredentialInfo": frozenset({"botTokenHint", "botUsername"}),
    "AICredentialInfo": frozenset({"provider", "apiKeyHint", "baseUrl", "model"}),
    "WebhookCredentialInfo": frozenset({"url", "hasSigningSecret"}),
    "UndecryptableCredentialInfo": frozenset({"message"}),
    "CircuitStats": frozenset(
        {
            "state",
            "failures",
            "successes",
            "lastFailureAt",
            "lastStateChangeAt",
            "retryAfterSeconds",
        }
    ),
    "GatewayAction": frozenset({"name", "description"}),
}


class ScopeSharing:
    """Whether an operation selects only SCOPE_SHARED_FIELDS, decided once per document text.

    Walking a document against the schema costs about a quarter of a millisecond, and a
    thousand clients reconnecting after a restart send the same few documents; the
    `limit` most recent verdicts are kept (client documents are arbitrary text).
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._verdicts: OrderedDict[Hashable, bool] = OrderedDict()

    def __call__(self, operation: SharedOperation) -> bool:
        key = operation.text_key
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = operation.selects_only(SCOPE_SHARED_FIELDS)
            self._verdicts[key] = verdict
            if len(self._verdicts) > self._limit:
                self._verdicts.popitem(last=False)
        else:
            self._verdicts.move_to_end(key)
        return verdict
