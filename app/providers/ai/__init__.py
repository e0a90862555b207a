"""AI gateways: one adapter per upstream API behind `AIGatewayProvider`.

provider.py           AIGatewayProvider (the Provider), base-URL policy, the ADAPTERS registry
adapter.py            the AIAdapter protocol and the HTTP plumbing adapters share
openai_compatible.py  OpenAI, DeepSeek, xAI (Grok), Mistral, Groq
anthropic.py          Anthropic Messages API
gemini.py             Google Gemini generateContent
ollama.py             Ollama native API
types.py              ChatRequest / ChatCompletion and `chat` params validation
payload.py            typed reads of untrusted upstream JSON
"""
