import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ScopeSwitcher } from "./ScopeSwitcher";

const orgs = [
  { id: "org-1", name: "Acme", role: "OWNER" },
  { id: "org-2", name: "Globex", role: "MEMBER" },
];

describe("ScopeSwitcher", () => {
  it("offers the personal scope and each organization", () => {
    render(<ScopeSwitcher organizations={orgs} value={null} onChange={() => undefined} />);
    const select = screen.getByLabelText("Scope");
    expect(select).toHaveValue("");
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Personal", "Acme (owner)", "Globex (member)"]);
  });

  it("reports the organization chosen, and null for the personal scope", async () => {
    const onChange = vi.fn();
    const { rerender } = render(<ScopeSwitcher organizations={orgs} value={null} onChange={onChange} />);
    await userEvent.selectOptions(screen.getByLabelText("Scope"), "Globex (member)");
    expect(onChange).toHaveBeenLastCalledWith("org-2");
    rerender(<ScopeSwitcher organizations={orgs} value="org-2" onChange={onChange} />);
    expect(screen.getByLabelText("Scope")).toHaveValue("org-2");
    await userEvent.selectOptions(screen.getByLabelText("Scope"), "Personal");
    expect(onChange).toHaveBeenLastCalledWith(null);
  });
});
