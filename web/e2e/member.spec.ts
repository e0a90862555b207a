import { createGateway, expect, gql, register, screenshot, signInAs, telegramInput, test } from "./fixtures";

test("a MEMBER of an organization sees a read-only console", async ({ page, request }) => {
  const owner = await register(request, "Owner");
  const member = await register(request, "Member");
  const created = await gql<{ createOrganization: { __typename: string; id: string } }>(
    request,
    `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) {
       __typename ... on Organization { id } ... on Error { message } } }`,
    { input: { name: `Acme ${Date.now().toString(36)}` } },
    { token: owner.token },
  );
  const org = created.createOrganization.id;
  const id = await createGateway(request, owner, telegramInput("Team bot"), org);
  await createGateway(request, owner, telegramInput("Owner's own bot"));
  // Seeded through the ORM by the test server (see tests/e2e/console_server.py).
  const seeded = await request.post(`${process.env.CONSOLE_E2E_CONTROL_URL}/memberships`, {
    data: { email: member.email, organizationId: org, role: "MEMBER" },
  });
  expect(seeded.status()).toBe(201);

  await signInAs(page, member);
  await page.goto("/gateways");
  await expect(page.getByRole("heading", { name: "No gateways yet" })).toBeVisible();
  const scope = page.getByLabel("Scope");
  const option = scope.locator("option").filter({ hasText: "Acme" });
  await scope.selectOption((await option.getAttribute("value")) ?? "");
  await expect(page.getByRole("link", { name: "Team bot" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Owner's own bot" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Add gateway" })).toHaveCount(0);
  await screenshot(page, "member-list");

  await page.getByRole("link", { name: "Team bot" }).click();
  await expect(page).toHaveURL(new RegExp(`/gateways/${id}$`));
  await expect(page.getByRole("button", { name: "Test connection" })).toBeVisible();
  for (const name of ["Connect", "Disconnect", "Delete", "Save", "Send message"]) {
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("region", { name: "Test result" })).toContainText("Success");
  await screenshot(page, "member-detail");

  await page.getByRole("link", { name: "Organizations" }).click();
  await expect(page.getByRole("cell", { name: member.email })).toBeVisible();
  await expect(page.getByRole("button", { name: "Add member" })).toHaveCount(0);
});
