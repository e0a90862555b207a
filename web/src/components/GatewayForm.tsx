import { useState, type FormEvent } from "react";
import type { AiProvider, CreateGatewayInput, GatewayType } from "../gql/graphql";
import { AI_PROVIDER_LABELS, GATEWAY_TYPE_LABELS, MODEL_SUGGESTIONS } from "../lib/format";
import type { FieldErrors } from "../lib/errors";
import { Alert, Field } from "./Field";

/** What the page reports back after sending the input: nothing (success) or what went wrong. */
export interface SubmitOutcome {
  fieldErrors?: FieldErrors;
  message?: string;
}

interface Props {
  onSubmit: (input: CreateGatewayInput) => Promise<SubmitOutcome | undefined>;
}

// Telegram bot tokens are "<bot id>:<secret>"; the server checks the same shape.
export const BOT_TOKEN_PATTERN = /^\d{3,}:[A-Za-z0-9_-]{20,}$/;
const PROVIDERS = Object.keys(AI_PROVIDER_LABELS) as AiProvider[];

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

interface Values {
  name: string;
  type: GatewayType;
  botToken: string;
  provider: AiProvider;
  apiKey: string;
  baseUrl: string;
  model: string;
  url: string;
  signingSecret: string;
}

const PATHS = {
  name: "name",
  botToken: "credentials.telegramBot.botToken",
  provider: "credentials.ai.provider",
  apiKey: "credentials.ai.apiKey",
  baseUrl: "credentials.ai.baseUrl",
  model: "credentials.ai.model",
  url: "credentials.webhook.url",
  signingSecret: "credentials.webhook.signingSecret",
} as const;

/** Client-side checks, reported by the same field paths the server uses. */
export function validate(v: Values): FieldErrors {
  const errors: FieldErrors = {};
  if (!v.name.trim()) errors[PATHS.name] = "Enter a name.";
  if (v.type === "TELEGRAM_BOT") {
    if (!v.botToken.trim()) errors[PATHS.botToken] = "Enter the bot token from @BotFather.";
    else if (!BOT_TOKEN_PATTERN.test(v.botToken.trim()))
      errors[PATHS.botToken] = "A bot token looks like 123456789:AAH… (the bot id, a colon, then the secret).";
  } else if (v.type === "AI") {
    if (v.provider !== "OLLAMA" && !v.apiKey.trim()) errors[PATHS.apiKey] = "Enter the provider's API key.";
    if (v.provider === "OLLAMA" && !v.baseUrl.trim()) errors[PATHS.baseUrl] = "Ollama needs the URL of its server.";
    else if (v.baseUrl.trim() && !isHttpUrl(v.baseUrl.trim())) errors[PATHS.baseUrl] = "Enter an http:// or https:// URL.";
  } else {
    if (!v.url.trim()) errors[PATHS.url] = "Enter the URL to deliver to.";
    else if (!isHttpUrl(v.url.trim())) errors[PATHS.url] = "Enter an http:// or https:// URL.";
  }
  return errors;
}

export function toInput(v: Values): CreateGatewayInput {
  const optional = (s: string) => (s.trim() ? s.trim() : null);
  const base = { name: v.name.trim(), type: v.type };
  switch (v.type) {
    case "TELEGRAM_BOT":
      return { ...base, credentials: { telegramBot: { botToken: v.botToken.trim() } } };
    case "AI":
      return {
        ...base,
        credentials: {
          ai: { provider: v.provider, apiKey: optional(v.apiKey), baseUrl: optional(v.baseUrl), model: optional(v.model) },
        },
      };
    case "WEBHOOK":
      return { ...base, credentials: { webhook: { url: v.url.trim(), signingSecret: optional(v.signingSecret) } } };
  }
}

const INITIAL: Values = {
  name: "",
  type: "TELEGRAM_BOT",
  botToken: "",
  provider: "OPENAI",
  apiKey: "",
  baseUrl: "",
  model: "",
  url: "",
  signingSecret: "",
};

/** The "add gateway" form: a type selector, then the credential form of that type. */
export function GatewayForm({ onSubmit }: Props) {
  const [values, setValues] = useState<Values>(INITIAL);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = <K extends keyof Values>(key: K, value: Values[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    // Editing a field clears its error; the others stay until the next submit.
    if (key in PATHS) {
      const path = PATHS[key as keyof typeof PATHS];
      setErrors((current) => Object.fromEntries(Object.entries(current).filter(([p]) => p !== path)));
    }
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const found = validate(values);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      focusFirstInvalid(event.currentTarget as HTMLFormElement);
      return;
    }
    setBusy(true);
    try {
      const outcome = await onSubmit(toInput(values));
      if (outcome) {
        const fieldErrors = outcome.fieldErrors ?? {};
        setErrors(fieldErrors);
        const known = new Set<string>(Object.values(PATHS));
        const unplaced = Object.entries(fieldErrors).filter(([path]) => !known.has(path));
        const text = [outcome.message, ...unplaced.map(([path, m]) => `${path}: ${m}`)].filter(Boolean).join(" ");
        setMessage(text || null);
      }
    } finally {
      setBusy(false);
    }
  }

  const err = (key: keyof typeof PATHS) => errors[PATHS[key]];
  const text = (key: keyof Values) => ({
    value: values[key],
    onChange: (e: { target: { value: string } }) => set(key, e.target.value as never),
  });

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-label="Add gateway">
      {message ? <Alert>{message}</Alert> : null}
      <Field label="Name" error={err("name")}>
        {(p) => <input {...p} {...text("name")} autoComplete="off" />}
      </Field>
      <Field label="Type">
        {(p) => (
          <select {...p} value={values.type} onChange={(e) => set("type", e.target.value as GatewayType)}>
            {(Object.keys(GATEWAY_TYPE_LABELS) as GatewayType[]).map((t) => (
              <option key={t} value={t}>
                {GATEWAY_TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        )}
      </Field>

      <fieldset className="credentials">
        <legend>{GATEWAY_TYPE_LABELS[values.type]} credentials</legend>
        {values.type === "TELEGRAM_BOT" ? (
          <Field label="Bot token" error={err("botToken")} hint="From @BotFather, e.g. 123456789:AAH…">
            {(p) => <input {...p} {...text("botToken")} type="password" autoComplete="off" spellCheck={false} />}
          </Field>
        ) : null}
        {values.type === "AI" ? (
          <>
            <Field label="Provider" error={err("provider")}>
              {(p) => (
                <select {...p} value={values.provider} onChange={(e) => set("provider", e.target.value as AiProvider)}>
                  {PROVIDERS.map((provider) => (
                    <option key={provider} value={provider}>
                      {AI_PROVIDER_LABELS[provider]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label="API key"
              error={err("apiKey")}
              hint={values.provider === "OLLAMA" ? "Optional for a local Ollama." : undefined}
            >
              {(p) => <input {...p} {...text("apiKey")} type="password" autoComplete="off" spellCheck={false} />}
            </Field>
            <Field
              label="Base URL"
              error={err("baseUrl")}
              hint={values.provider === "OLLAMA" ? "Required, e.g. http://127.0.0.1:11434" : "Optional: the provider's own by default."}
            >
              {(p) => <input {...p} {...text("baseUrl")} type="url" inputMode="url" autoComplete="off" />}
            </Field>
            <Field label="Model" error={err("model")} hint="Optional: the provider's default by default.">
              {(p) => (
                <>
                  <input {...p} {...text("model")} list="model-suggestions" autoComplete="off" />
                  <datalist id="model-suggestions">
                    {MODEL_SUGGESTIONS[values.provider].map((m) => (
                      <option key={m} value={m} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>
          </>
        ) : null}
        {values.type === "WEBHOOK" ? (
          <>
            <Field label="URL" error={err("url")}>
              {(p) => <input {...p} {...text("url")} type="url" inputMode="url" autoComplete="off" />}
            </Field>
            <Field label="Signing secret" error={err("signingSecret")} hint="Optional (whsec_…): leave it empty and one is generated and shown once. Deliveries are signed with Standard Webhooks.">
              {(p) => <input {...p} {...text("signingSecret")} type="password" autoComplete="off" />}
            </Field>
          </>
        ) : null}
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create gateway"}
        </button>
      </div>
    </form>
  );
}

export function focusFirstInvalid(form: HTMLFormElement) {
  // After React re-renders with the errors.
  setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
}
