"""Bot API objects in the shape actions return: camelCase keys, ids as strings, ISO dates.

Ids become strings because they may exceed 2**53, past which JavaScript numbers lose digits.
Unix timestamps become ISO-8601 UTC strings, like every other datetime the API returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def iso_from_unix(unix: object) -> str | None:
    if isinstance(unix, int) and not isinstance(unix, bool) and unix > 0:
        return datetime.fromtimestamp(unix, UTC).isoformat()
    return None


def describe_bot(me: Mapping[str, Any]) -> dict[str, Any]:
    """getMe's User in camelCase; the id as a string, since it may exceed 2**53."""
    return {
        "id": str(me["id"]),
        "isBot": bool(me.get("is_bot", True)),
        "firstName": me.get("first_name"),
        "username": me.get("username"),
        "canJoinGroups": me.get("can_join_groups"),
        "canReadAllGroupMessages": me.get("can_read_all_group_messages"),
        "supportsInlineQueries": me.get("supports_inline_queries"),
    }


def describe_webhook(info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "url": info.get("url") or "",
        "pendingUpdateCount": info.get("pending_update_count", 0),
        "lastErrorDate": iso_from_unix(info.get("last_error_date")),
        "lastErrorMessage": info.get("last_error_message"),
        "maxConnections": info.get("max_connections"),
        "allowedUpdates": info.get("allowed_updates"),
    }
