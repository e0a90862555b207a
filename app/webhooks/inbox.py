"""Reading a Telegram update into an inbox row, and storing it exactly once.

Telegram redelivers an update until it gets a 2xx, so storing must be idempotent: the unique
(gateway, update_id) pair turns a redelivery into a no-op insert. Unknown update kinds are stored
as "other" rather than refused: a non-2xx would make Telegram retry it forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from app.core import strict_json
from app.core.ids import uuid7
from app.providers.telegram.update_types import UPDATE_TYPES
from app.webhooks.models import TelegramUpdate

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TEXT_MAX = 10_000
# What no database column takes: NUL (PostgreSQL text and jsonb refuse it) and lone surrogates
# (not encodable as UTF-8 at all). In a body they can only come from a `\u0000` or `\uD800`-
# `\uDFFF` escape, or from raw UTF-8-encoded surrogates, which json.loads lets through.
_UNSTORABLE_IN_BODY = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class MalformedUpdateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    update_id: int
    update_type: str
    chat_id: int | None
    from_user_id: int | None
    text: str | None
    payload: dict[str, Any]


def _int64(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
        return value
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _storable(value: Any) -> Any:
    """`value` with every unstorable character replaced by U+FFFD, in keys and values."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_UNSTORABLE.sub("\ufffd", k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def decode_update(body: bytes) -> ParsedUpdate:
    """Parse a webhook body into an update that the database can store.

    An update that could never be stored would be answered 503 again and again, and Telegram
    would redeliver it (holding back that chat's later updates) for a day: characters no column
    takes are replaced instead. Anything that is not an update raises MalformedUpdateError,
    including NaN and Infinity: they are not JSON, PostgreSQL refuses them (a 503 forever) and
    SQLite would keep them for clients that cannot parse them.
    """
    try:
        payload = strict_json.loads(body)
        if _UNSTORABLE_IN_BODY.search(body):
            payload = _storable(payload)
    except RecursionError:
        raise MalformedUpdateError("the body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NonStandardJSONError
        raise MalformedUpdateError(f"the body is not JSON ({exc})") from None
    return parse_update(payload)


def _sender(update_type: str, body: dict[str, Any]) -> Any:
    """The user who caused the update: `from` on most kinds, `user` on reactions, poll answers,
    business connections, subscriptions and managed bots, the booster on chat boosts."""
    if update_type == "chat_boost":
        return _dict(_dict(body.get("boost")).get("source")).get("user")
    if update_type == "removed_chat_boost":
        return _dict(body.get("source")).get("user")
    return body.get("from") if isinstance(body.get("from"), dict) else body.get("user")


def _text(update_type: str, body: dict[str, Any], message: dict[str, Any]) -> Any:
    if update_type == "callback_query" and body.get("data"):
        # The pressed button's data comes first: the nested message is the bot's own.
        return body.get("data")
    if update_type == "poll":
        return body.get("question")
    if update_type in ("inline_query", "chosen_inline_result"):
        return body.get("query")
    return message.get("text") or message.get("caption")


def parse_update(payload: Any) -> ParsedUpdate:
    if not isinstance(payload, dict):
        raise MalformedUpdateError("the body must be a JSON object")
    update_id = _int64(payload.get("update_id"))
    if update_id is None:
        raise MalformedUpdateError("update_id must be an integer")
    update_type = next((t for t in UPDATE_TYPES if t in payload), "other")
    body = _dict(payload.get(update_type))
    # A callback query nests the message it was pressed on; every other kind has its chat (if
    # any) at the top of its body.
    message = _dict(body.get("message")) or body
    chat = _dict(message.get("chat")) or None
    sender = _sender(update_type, body)
    text = _text(update_type, body, message)
    return ParsedUpdate(
        update_id=update_id,
        update_type=update_type,
        chat_id=_int64(chat.get("id")) if chat else None,
        from_user_id=_int64(sender.get("id")) if isinstance(sender, dict) else None,
        text=text[:TEXT_MAX] if isinstance(text, str) else None,
        payload=payload,
    )


# The insert statement per database client. Built once: `bulk_create(ignore_conflicts=True)`
# rebuilds it through the query builder on every call and wraps the single row in a
# transaction, which measured as most of the webhook route's time (bench/ webhook). Tied to
# the client object, not its connection name, so a process that talks to another database (a
# test run switching engines) never reuses the wrong dialect's placeholders.
_insert_cache: tuple[BaseDBAsyncClient, str, list[str]] | None = None


def _insert_statement(db: BaseDBAsyncClient) -> tuple[str, list[str]]:
    global _insert_cache
    if _insert_cache is not None and _insert_cache[0] is db:
        return _insert_cache[1], _insert_cache[2]
    meta = TelegramUpdate._meta
    names = [n for n in meta.fields_db_projection if not meta.fields_map[n].generated]
    executor = db.executor_class(model=TelegramUpdate, db=db)
    query = (
        db.query_class.into(meta.basetable)
        .columns(*[meta.fields_db_projection[n] for n in names])
        .insert(*[executor.parameter(i) for i in range(len(names))])
        .on_conflict()
        .do_nothing()
    )
    sql = query.get_sql()
    _insert_cache = (db, sql, names)
    return sql, names


async def store_update(gateway_id: UUID, update: ParsedUpdate, received_at: datetime) -> bool:
    """One INSERT that ignores a duplicate (gateway, update_id); raises on storage failure.
    True when the row is new, False for a redelivered update.

    A single autocommitted statement: when it returns, the row is durable (or was already
    there), which is what lets the route acknowledge the update.
    """
    db = TelegramUpdate._meta.db
    sql, names = _insert_statement(db)
    row = {
        "id": uuid7(),
        "gateway_id": gateway_id,
        "update_id": update.update_id,
        "update_type": update.update_type,
        "chat_id": update.chat_id,
        "from_user_id": update.from_user_id,
        "text": update.text,
        "payload": update.payload,
        "received_at": received_at,
        "processed_at": None,
    }
    fields = TelegramUpdate._meta.fields_map
    values = [fields[name].to_db_value(row[name], TelegramUpdate) for name in names]
    if db.capabilities.dialect == "postgres":
        # asyncpg's tag for an INSERT is "INSERT <oid> <rows>", and Tortoise reads the oid as the
        # row count (always 0): the RETURNING row says whether the update was new.
        return bool(await db.execute_query_dict(sql + " RETURNING 1", values))
    inserted, _ = await db.execute_query(sql, values)
    return inserted > 0


async def prune_updates(older_than: datetime) -> int:
    deleted: int = await TelegramUpdate.filter(received_at__lt=older_than).delete()
    return deleted


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
