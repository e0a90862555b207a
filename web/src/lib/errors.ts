import type { CombinedError } from "urql";

/** The error members of the API's result unions, as the contract documents select them. */
export interface ApiErrorResult {
  __typename: string;
  message?: string;
  fieldErrors?: ReadonlyArray<{ field: string; message: string }>;
  retryAfterSeconds?: number | null;
  providerRetryAfterSeconds?: number | null;
  code?: string;
  upstreamStatus?: number | null;
}

function seconds(value: number): string {
  const rounded = Math.max(1, Math.ceil(value));
  return `${rounded} second${rounded === 1 ? "" : "s"}`;
}

/** A readable sentence for an error member of a result union. */
export function describeError(result: ApiErrorResult): string {
  const message = result.message ?? "The request failed.";
  switch (result.__typename) {
    case "CircuitOpenError":
      return `The gateway is paused after repeated upstream failures (circuit open): ${message}. Retry in ${seconds(result.retryAfterSeconds ?? 0)}.`;
    case "ProviderError": {
      const facts = [result.code, result.upstreamStatus ? `HTTP ${result.upstreamStatus}` : null]
        .filter(Boolean)
        .join(", ");
      const retry = result.providerRetryAfterSeconds ? ` Retry in ${seconds(result.providerRetryAfterSeconds)}.` : "";
      return `The upstream refused the call${facts ? ` (${facts})` : ""}: ${message}${retry}`;
    }
    case "RateLimitedError":
      return `${message} Try again in ${seconds(result.retryAfterSeconds ?? 0)}.`;
    default:
      return message;
  }
}

/** A readable sentence for a transport-level failure (network down, server error). */
export function describeCombinedError(error: CombinedError): string {
  if (error.networkError) {
    return `Cannot reach the server (${error.networkError.message}). Check your connection and try again.`;
  }
  const first = error.graphQLErrors[0];
  if (first?.extensions.code === "FORBIDDEN") return "You are not a member of this organization.";
  if (first?.extensions.code === "UNAUTHENTICATED") return "Your session has ended. Please sign in again.";
  return first?.message ?? error.message;
}

/** Field errors keyed by their dotted path into the mutation input. */
export type FieldErrors = Record<string, string>;

export function fieldErrorsOf(result: ApiErrorResult, prefix = ""): FieldErrors {
  const out: FieldErrors = {};
  for (const e of result.fieldErrors ?? []) {
    const path = prefix && e.field.startsWith(prefix) ? e.field.slice(prefix.length) : e.field;
    out[path] ??= e.message;
  }
  return out;
}
