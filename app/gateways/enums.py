"""Enumerations shared by the gateway domain, the providers and the GraphQL layer.

Values are the GraphQL enum names, so one enum serves the database column, the Python code and
the schema without a mapping table.
"""

from __future__ import annotations

from enum import StrEnum


class GatewayType(StrEnum):
    TELEGRAM_BOT = "TELEGRAM_BOT"
    AI = "AI"
    WEBHOOK = "WEBHOOK"


class GatewayStatus(StrEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    ERROR = "ERROR"
    CONNECTING = "CONNECTING"


class AIProvider(StrEnum):
    OPENAI = "OPENAI"
    ANTHROPIC = "ANTHROPIC"
    DEEPSEEK = "DEEPSEEK"
    GROK = "GROK"
    GEMINI = "GEMINI"
    MISTRAL = "MISTRAL"
    GROQ = "GROQ"
    OLLAMA = "OLLAMA"
