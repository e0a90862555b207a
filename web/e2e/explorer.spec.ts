import { expect, register, screenshot, signInAs, test } from "./fixtures";

test("the API explorer is served from the console itself and uses the console's session", async ({ page, request }) => {
  const account = await register(request, "Explorer");
  await signInAs(page, account);
  const introspection = page.waitForRequest(
    (r) => r.url().endsWith("/graphql") && r.method() === "POST" && (r.postData() ?? "").includes("__schema"),
  );
  await page.goto("/explorer");
  // A large chunk (GraphiQL) on a busy machine: more time than the default.
  await expect(page.locator(".graphiql-container")).toBeVisible({ timeout: 30_000 });
  const sent = await introspection;
  expect(sent.headers().authorization).toBe(`Bearer ${account.token}`);
  const response = await sent.response();
  expect(response?.status()).toBe(200);
  await screenshot(page, "explorer");
});
