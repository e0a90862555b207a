import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka";
import { AddMemberForm } from "./OrganizationsPage";

function renderWith(result: Record<string, unknown>) {
  const executeMutation = vi.fn(() => fromValue({ data: { addOrganizationMember: result } }));
  const client = { executeMutation } as unknown as Client;
  render(
    <Provider value={client}>
      <AddMemberForm organizationId="org-1" viewerRole="ADMIN" />
    </Provider>,
  );
  return { executeMutation, user: userEvent.setup() };
}

async function add(user: ReturnType<typeof userEvent.setup>, email: string) {
  await user.type(screen.getByLabelText("Member email"), email);
  await user.click(screen.getByRole("button", { name: "Add member" }));
}

describe("AddMemberForm", () => {
  it("offers an ADMIN the roles an ADMIN may give", () => {
    renderWith({});
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Member", "Admin"]);
  });

  it("names the new member", async () => {
    const { executeMutation, user } = renderWith({
      __typename: "Membership",
      role: "MEMBER",
      createdAt: "2026-01-01T00:00:00Z",
      user: { id: "u2", email: "bob@example.test", name: "Bob" },
      organization: { id: "org-1", name: "Acme", slug: "acme" },
    });
    await add(user, "bob@example.test");
    expect(await screen.findByText("Bob (bob@example.test) is now a member.")).toBeInTheDocument();
    expect(executeMutation).toHaveBeenCalledTimes(1);
  });

  it("treats any other success member (an invitation) as sent to the email", async () => {
    const { user } = renderWith({ __typename: "OrganizationInvitation", id: "i1", email: "carol@example.test" });
    await add(user, "carol@example.test");
    expect(await screen.findByText("Invitation sent to carol@example.test.")).toBeInTheDocument();
  });

  it("shows an error member's message, and field errors at their fields", async () => {
    const { user } = renderWith({
      __typename: "ValidationError",
      message: "Invalid input.",
      fieldErrors: [{ field: "email", message: "Not an email address." }],
    });
    await add(user, "not-an-email");
    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid input.");
    expect(screen.getByLabelText("Member email")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Not an email address.")).toBeInTheDocument();
  });
});
