"""URLs as they may appear in telemetry: no credentials, no query, no bot token, no secret paths.

A Telegram Bot API URL carries the bot token in its path (`/bot<id>:<secret>/getMe`), a webhook
target's URL may itself be the secret (`https://hooks.example.com/services/T0/B0/<secret>`), and
any query string may hold an API key. Span names and attributes are exported to a collector that
many people can read, so URLs are cut down before they get there.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.providers.telegram.redact import redact_bot_tokens

# Upstreams whose paths are API methods chosen by us, never secrets other than a bot token.
API_PROVIDERS = frozenset(
    {"telegram", "openai", "anthropic", "deepseek", "grok", "gemini", "mistral", "groq", "ollama"}
)


def safe_url(url: str, *, keep_path: bool = True) -> str:
    """scheme://host[:port] and, when `keep_path`, the path with any bot token redacted."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    if ":" in host:
        host = f"[{host}]"
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    if not keep_path:
        return origin + "/…"
    return origin + redact_bot_tokens(parts.path or "/")


def redact_text(text: str) -> str:
    """Bot tokens out of free text such as a span name."""
    return redact_bot_tokens(text)
