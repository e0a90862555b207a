export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export const GATEWAY_TYPE_LABELS = {
  TELEGRAM_BOT: "Telegram Bot",
  AI: "AI",
  WEBHOOK: "Webhook",
} as const;

export const AI_PROVIDER_LABELS = {
  OPENAI: "OpenAI",
  ANTHROPIC: "Anthropic",
  DEEPSEEK: "DeepSeek",
  GROK: "Grok",
  GEMINI: "Gemini",
  MISTRAL: "Mistral",
  GROQ: "Groq",
  OLLAMA: "Ollama",
} as const;

/** Suggestions for the "Model" box; any model name the provider knows is accepted. */
export const MODEL_SUGGESTIONS: Record<keyof typeof AI_PROVIDER_LABELS, readonly string[]> = {
  OPENAI: ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o3-mini"],
  ANTHROPIC: ["claude-3-5-haiku-latest", "claude-3-7-sonnet-latest", "claude-sonnet-4-0"],
  DEEPSEEK: ["deepseek-chat", "deepseek-reasoner"],
  GROK: ["grok-3-mini", "grok-3"],
  GEMINI: ["gemini-2.0-flash", "gemini-1.5-pro"],
  MISTRAL: ["mistral-small-latest", "mistral-large-latest"],
  GROQ: ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"],
  OLLAMA: ["llama3.2", "qwen2.5", "mistral"],
};
