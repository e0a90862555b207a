"""Keep bot tokens out of httpx's own log lines.

httpx logs every request at INFO on the "httpx" logger as `HTTP Request: POST <url> ...`, and a
Bot API URL is `/bot<token>/<method>`: anyone running with INFO logging would write every bot's
token to their log store. This filter rewrites such records on that logger, replacing the secret
half of the token. It is installed once per process (idempotent) by `TelegramProvider`, so no
deployment can forget it.
"""

from __future__ import annotations

import logging
import re

_BOT_PATH = re.compile(r"/bot(\d+):[^/\s\"']+")


def redact_bot_tokens(text: str) -> str:
    """`/bot123:secret/` becomes `/bot123:***/`; the bot id stays, it is not a secret."""
    return _BOT_PATH.sub(r"/bot\1:***", text)


class BotTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_bot_tokens(message)
        if redacted != message:
            # Freeze the formatted message so no handler can format the raw args again.
            record.msg, record.args = redacted, None
        return True


def install_httpx_redaction(logger_name: str = "httpx") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, BotTokenFilter) for f in logger.filters):
        logger.addFilter(BotTokenFilter())
