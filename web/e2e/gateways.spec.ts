import {
  BOT_TOKEN,
  OPENAI_KEY,
  createGateway,
  expect,
  gql,
  register,
  screenshot,
  signInAs,
  subscribed,
  telegramInput,
  test,
} from "./fixtures";
import type { WebSocketRoute } from "@playwright/test";

test("add one gateway of each type, with client and server field errors", async ({ page, request }) => {
  const account = await register(request, "Grace");
  await signInAs(page, account);
  await page.goto("/gateways");
  await page.getByRole("link", { name: "Add gateway" }).click();
  await expect(page).toHaveURL(/\/gateways\/new$/);

  // Client-side checks, at their fields.
  await page.getByRole("button", { name: "Create gateway" }).click();
  const name = page.getByLabel("Name");
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Name").fill("Support bot");
  await page.getByLabel("Bot token").fill("not-a-token");
  await page.getByRole("button", { name: "Create gateway" }).click();
  const token = page.getByLabel("Bot token");
  await expect(token).toHaveAttribute("aria-invalid", "true");
  const described = await token.getAttribute("aria-describedby");
  expect(described).toBeTruthy();
  await expect(page.locator(`[id="${described?.split(" ")[0]}"]`)).toContainText("bot token looks like");
  await screenshot(page, "add-gateway-errors");

  await token.fill(BOT_TOKEN);
  await page.getByRole("button", { name: "Create gateway" }).click();
  await expect(page).toHaveURL(/\/gateways\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Support bot" })).toBeVisible();
  await expect(page.getByText("123456789:")).toBeVisible(); // the masked hint, never the token
  await expect(page.getByText(BOT_TOKEN)).toHaveCount(0);

  // AI: Ollama needs its base URL; then an OpenAI gateway.
  await page.goto("/gateways/new");
  await page.getByLabel("Name").fill("Assistant");
  await page.getByLabel("Type").selectOption("AI");
  await expect(page.getByLabel("Provider").locator("option")).toHaveText([
    "OpenAI",
    "Anthropic",
    "DeepSeek",
    "Grok",
    "Gemini",
    "Mistral",
    "Groq",
    "Ollama",
  ]);
  await page.getByLabel("Provider").selectOption("Ollama");
  await page.getByRole("button", { name: "Create gateway" }).click();
  await expect(page.getByLabel("Base URL")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Provider").selectOption("OpenAI");
  await page.getByLabel("API key").fill(OPENAI_KEY);
  await page.getByLabel("Model").fill("gpt-e2e");
  await page.getByRole("button", { name: "Create gateway" }).click();
  await expect(page.getByRole("heading", { name: "Assistant" })).toBeVisible();

  // Webhook: a field error only the server knows (the secret's format) lands at its field.
  await page.goto("/gateways/new");
  await page.getByLabel("Name").fill("Orders hook");
  await page.getByLabel("Type").selectOption("Webhook");
  await page.getByLabel("URL", { exact: true }).fill("https://hooks.example.test/in");
  await page.getByLabel("Signing secret").fill("short");
  await page.getByRole("button", { name: "Create gateway" }).click();
  const secret = page.getByLabel("Signing secret");
  await expect(secret).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("or leave it empty")).toBeVisible();
  // Left empty, the server generates the secret; the gateway's page shows it once.
  await secret.fill("");
  await page.getByRole("button", { name: "Create gateway" }).click();
  await expect(page.getByRole("heading", { name: "Orders hook" })).toBeVisible();
  const revealed = page.getByRole("region", { name: "Signing secret" });
  await expect(revealed.locator("code")).toHaveText(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Orders hook" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Signing secret" })).toHaveCount(0);

  await page.goto("/gateways");
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows).toHaveCount(4); // the header and three gateways
  await expect(page.getByRole("link", { name: "Support bot" })).toBeVisible();
  await page.getByLabel("Type").selectOption("Webhook");
  await expect(rows).toHaveCount(2);
  await expect(page.getByRole("link", { name: "Orders hook" })).toBeVisible();
  await page.getByLabel("Status").selectOption("Connected");
  await expect(page.getByText("No gateway matches these filters.")).toBeVisible();
});

test("test connection: success and failure, connect and disconnect a Telegram gateway", async ({ page, request }) => {
  const account = await register(request, "Linus");
  const bot = await createGateway(request, account, telegramInput("Alerts bot"));
  const ai = await createGateway(request, account, {
    name: "Wrong key AI",
    type: "AI",
    credentials: { ai: { provider: "OPENAI", apiKey: "sk-wrong-0123456789" } },
  });
  await signInAs(page, account);

  await page.goto(`/gateways/${bot}`);
  const result = page.getByRole("region", { name: "Test result" });
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(result).toContainText("Success");
  await expect(result).toContainText(/\d+ ms/);
  await expect(result).toContainText("e2e_123456789_bot");

  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect(page.getByRole("status").first()).toHaveText("Connected");
  await expect(page.getByRole("button", { name: "Disconnect", exact: true })).toBeVisible();
  await page.getByLabel("Chat id").fill("42");
  await page.getByLabel("Text").fill("hello from the console");
  await page.getByRole("button", { name: "Send message" }).click();
  await expect(page.getByText("Message sent.")).toBeVisible();
  await screenshot(page, "gateway-detail-telegram");
  await page.getByRole("button", { name: "Disconnect", exact: true }).click();
  await expect(page.getByRole("status").first()).toHaveText("Disconnected");
  await expect(page.getByRole("button", { name: "Connect", exact: true })).toBeVisible();

  await page.goto(`/gateways/${ai}`);
  await page.getByRole("button", { name: "Test connection" }).click();
  const failure = page.getByRole("region", { name: "Test result" });
  await expect(failure).toContainText("Failed");
  await expect(failure).not.toContainText("Success");
  await expect(failure).toContainText(/key/i);
  await expect(page.getByRole("status").first()).toHaveText("Error");
  await screenshot(page, "gateway-detail-test-failed");

  // The list with both, as the README shows it.
  await page.goto(`/gateways/${bot}`);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expect(page.getByRole("status").first()).toHaveText("Connected");
  await page.goto("/gateways");
  await expect(page.getByRole("row").filter({ hasText: "Wrong key AI" }).getByRole("status")).toHaveText("Error");
  await expect(page.getByRole("row").filter({ hasText: "Alerts bot" }).getByRole("status")).toHaveText("Connected");
  await screenshot(page, "gateways-list");
});

test("a status change made by another client reaches the open list and detail pages", async ({ page, context, request }) => {
  const account = await register(request, "Barbara");
  const id = await createGateway(request, account, telegramInput("Watched bot"));
  await signInAs(page, account);

  const listSubscribed = subscribed(page);
  await page.goto("/gateways");
  await listSubscribed;
  const detail = await context.newPage();
  const detailSubscribed = subscribed(detail);
  await detail.goto(`/gateways/${id}`);
  await detailSubscribed;
  const row = page.getByRole("row").filter({ hasText: "Watched bot" });
  await expect(row.getByRole("status")).toHaveText("Disconnected");

  await gql(
    request,
    `mutation($id: ID!) { updateGatewayStatus(id: $id, status: ERROR, error: "upstream answered 502") {
       __typename ... on Gateway { id } ... on Error { message } } }`,
    { id },
    { token: account.token },
  );
  await expect(row.getByRole("status")).toHaveText("Error");
  await expect(row).toContainText("upstream answered 502");
  await expect(detail.getByRole("status").first()).toHaveText("Error");
  await expect(detail.getByText("upstream answered 502").first()).toBeVisible();
  await screenshot(page, "gateways-live-error");

  await gql(
    request,
    `mutation($id: ID!) { updateGatewayStatus(id: $id, status: CONNECTING) {
       __typename ... on Gateway { id } ... on Error { message } } }`,
    { id },
    { token: account.token },
  );
  await expect(row.getByRole("status")).toHaveText("Connecting");
  await expect(detail.getByRole("status").first()).toHaveText("Connecting");
});

test("delete asks for confirmation, then returns to the list", async ({ page, request }) => {
  const account = await register(request, "Edsger");
  const id = await createGateway(request, account, telegramInput("Doomed bot"));
  await signInAs(page, account);
  await page.goto(`/gateways/${id}`);

  await page.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await screenshot(page, "delete-dialog");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Doomed bot" })).toBeVisible();

  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/\/gateways$/);
  await expect(page.getByRole("heading", { name: "No gateways yet" })).toBeVisible();
});

test("after the socket drops, the list reconnects and refetches what it missed", async ({ page, request }) => {
  const account = await register(request, "Radia");
  const id = await createGateway(request, account, telegramInput("Flaky link bot"));
  await signInAs(page, account);
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    ws.connectToServer();
    sockets.push(ws);
  });
  await page.goto("/gateways");
  const row = page.getByRole("row").filter({ hasText: "Flaky link bot" });
  await expect(row.getByRole("status")).toHaveText("Disconnected");
  await expect.poll(() => sockets.length).toBe(1);

  // 1012 (service restart) is a drop graphql-ws retries after a back-off; the change below is
  // made while no socket is open, so only the refetch after reconnecting can show it.
  await sockets[0]?.close({ code: 1012, reason: "dropped by the test" });
  await gql(
    request,
    `mutation($id: ID!) { updateGatewayStatus(id: $id, status: ERROR, error: "missed while offline") {
       __typename ... on Gateway { id } ... on Error { message } } }`,
    { id },
    { token: account.token },
  );
  await expect.poll(() => sockets.length, { timeout: 15_000 }).toBe(2);
  await expect(row.getByRole("status")).toHaveText("Error", { timeout: 10_000 });
  await expect(row).toContainText("missed while offline");
});
