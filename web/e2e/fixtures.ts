import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";
export const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1";
export const OPENAI_KEY = "sk-console-e2e-0123456789"; // what the fake OpenAI accepts

let counter = 0;
export function uniqueEmail(who: string): string {
  counter += 1;
  return `${who}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 7)}@example.test`;
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}

/** GraphQL from the test itself (another client than the browser page). */
export async function gql<T = Record<string, unknown>>(
  request: APIRequestContext,
  query: string,
  variables: Record<string, unknown> = {},
  auth: { token?: string; org?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (auth.org) headers["X-Organization-Id"] = auth.org;
  const response = await request.post("/graphql", { data: { query, variables }, headers });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data as T;
}

export interface Account {
  token: string;
  user: { id: string; email: string; name: string };
  email: string;
}

export async function register(request: APIRequestContext, name: string): Promise<Account> {
  const email = uniqueEmail(name.toLowerCase());
  const data = await gql<{ register: { __typename: string; token: string; user: Account["user"] } }>(
    request,
    `mutation($input: RegisterInput!) { register(input: $input) {
       __typename ... on AuthPayload { token user { id email name } } ... on Error { message } } }`,
    { input: { email, password: PASSWORD, name } },
  );
  expect(data.register.__typename).toBe("AuthPayload");
  return { token: data.register.token, user: data.register.user, email };
}

export async function createGateway(
  request: APIRequestContext,
  account: Account,
  input: Record<string, unknown>,
  org?: string,
): Promise<string> {
  const data = await gql<{ createGateway: { __typename: string; id: string } }>(
    request,
    `mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
       __typename ... on Gateway { id } ... on Error { message } } }`,
    { input },
    { token: account.token, ...(org ? { org } : {}) },
  );
  expect(data.createGateway.__typename).toBe("Gateway");
  return data.createGateway.id;
}

export const telegramInput = (name: string) => ({
  name,
  type: "TELEGRAM_BOT",
  credentials: { telegramBot: { botToken: BOT_TOKEN } },
});

/** Opens the console already signed in as `account` (the session the console keeps). */
export async function signInAs(page: Page, account: Account, organizationId?: string) {
  await page.addInitScript(
    ([token, user, org]) => {
      if (sessionStorage.getItem("seeded")) return; // only once: sign-out must stick
      sessionStorage.setItem("seeded", "1");
      localStorage.setItem("gateway-console.token", token);
      localStorage.setItem("gateway-console.user", user);
      if (org) localStorage.setItem("gateway-console.organization", org);
    },
    [account.token, JSON.stringify(account.user), organizationId ?? ""] as const,
  );
}

/** Resolves once the page has sent a graphql-transport-ws `subscribe` and the server had time to register it. */
export async function subscribed(page: Page) {
  const socket = await page.waitForEvent("websocket", { predicate: (ws) => ws.url().endsWith("/graphql") });
  await socket.waitForEvent("framesent", { predicate: (f) => String(f.payload).includes('"subscribe"') });
  await page.waitForTimeout(300);
}

/**
 * Every test: no request of the page leaves the server's origin (no CDN, no fonts, no
 * telemetry), and the console logs no Content-Security-Policy violation.
 */
export const test = base.extend<{ originGuard: undefined }>({
  originGuard: [
    async ({ context, baseURL }, use) => {
      const origin = new URL(baseURL ?? "").origin;
      const wsOrigin = origin.replace(/^http/, "ws");
      const foreign: string[] = [];
      const violations: string[] = [];
      context.on("request", (r) => {
        const url = r.url();
        if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
      });
      context.on("page", (page) => {
        page.on("websocket", (ws) => {
          if (!ws.url().startsWith(wsOrigin)) foreign.push(ws.url());
        });
        page.on("console", (m) => {
          if (m.text().includes("Content Security Policy")) violations.push(m.text().replace(/data:[^']{40,}/g, "data:…"));
        });
      });
      await use(undefined);
      expect(foreign, "requests that left the server's origin").toEqual([]);
      expect(violations, "CSP violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
