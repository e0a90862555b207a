"""The kinds of Telegram update the app knows, by the key that carries each in an `Update`.

One list for both ends of the webhook: `setWebhook` asks for every kind in it by default, and the
inbox stores each under its own name. Anything else is stored as "other" (a newer Bot API may add
kinds; a non-2xx would make Telegram redeliver them forever).

Three kinds are never delivered unless named in `allowed_updates`: `chat_member`,
`message_reaction` and `message_reaction_count` (an empty list means "all but those").
"""

from __future__ import annotations

UPDATE_TYPES: tuple[str, ...] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "guest_message",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "subscription",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "managed_bot",
)
