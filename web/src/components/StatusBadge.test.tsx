import { render, screen } from "@testing-library/react";
import { StatusBadge } from "./StatusBadge";

describe("StatusBadge", () => {
  it.each([
    ["CONNECTED", "Connected", "badge-connected"],
    ["DISCONNECTED", "Disconnected", "badge-disconnected"],
    ["ERROR", "Error", "badge-error"],
    ["CONNECTING", "Connecting", "badge-connecting"],
  ] as const)("shows %s as the word %s with its colour", (status, word, colour) => {
    render(<StatusBadge status={status} />);
    const badge = screen.getByRole("status");
    expect(badge).toHaveTextContent(word);
    expect(badge.textContent).toBe(word); // the word itself, not only a coloured dot
    expect(badge).toHaveClass(colour);
  });
});
