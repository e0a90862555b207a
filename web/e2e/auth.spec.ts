import { PASSWORD, expect, screenshot, test, uniqueEmail } from "./fixtures";

test("sign up, keep the session over a reload, sign out and sign in again", async ({ page }) => {
  const email = uniqueEmail("ada");
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await screenshot(page, "sign-in");

  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/gateways$/);
  await expect(page.getByRole("heading", { name: "No gateways yet" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Add gateway" })).toBeVisible();
  await screenshot(page, "gateways-empty");

  await page.reload();
  await expect(page.getByRole("heading", { name: "No gateways yet" })).toBeVisible();
  await expect(page.getByText("Ada Lovelace")).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto("/gateways");
  await expect(page).toHaveURL(/\/signin$/);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page).toHaveURL(/\/signin$/);

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/gateways$/);
});

test("a token the server no longer accepts leads back to sign-in", async ({ page }) => {
  await page.addInitScript(() => {
    if (sessionStorage.getItem("seeded")) return;
    sessionStorage.setItem("seeded", "1");
    localStorage.setItem("gateway-console.token", "revoked-or-made-up-token");
    localStorage.setItem("gateway-console.user", JSON.stringify({ id: "1", email: "x@example.test", name: "X" }));
  });
  await page.goto("/gateways");
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByText("Your session has ended")).toBeVisible();
});
