import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { CreateGatewayInput } from "../gql/graphql";
import { GatewayForm, type SubmitOutcome } from "./GatewayForm";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1";

function setup(outcome?: SubmitOutcome) {
  const onSubmit = vi.fn((_input: CreateGatewayInput) => Promise.resolve(outcome));
  render(<GatewayForm onSubmit={onSubmit} />);
  return { onSubmit, user: userEvent.setup() };
}

function errorOf(field: HTMLElement): string | null {
  expect(field).toHaveAttribute("aria-invalid", "true");
  const ids = field.getAttribute("aria-describedby")?.split(" ") ?? [];
  return ids.map((id) => document.getElementById(id)?.textContent ?? "").join(" ");
}

describe("GatewayForm", () => {
  it("sends a Telegram bot's token", async () => {
    const { onSubmit, user } = setup();
    await user.type(screen.getByLabelText("Name"), "  Support bot ");
    await user.type(screen.getByLabelText("Bot token"), TOKEN);
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(onSubmit).toHaveBeenCalledWith({
      name: "Support bot",
      type: "TELEGRAM_BOT",
      credentials: { telegramBot: { botToken: TOKEN } },
    });
  });

  it("checks required fields and the bot token's format before sending", async () => {
    const { onSubmit, user } = setup();
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(errorOf(screen.getByLabelText("Name"))).toContain("Enter a name");
    expect(errorOf(screen.getByLabelText("Bot token"))).toContain("@BotFather");
    await user.type(screen.getByLabelText("Bot token"), "12345:short");
    await user.type(screen.getByLabelText("Name"), "Bot");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(errorOf(screen.getByLabelText("Bot token"))).toContain("looks like 123456789:AAH");
    expect(screen.getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("follows the AI type: all eight providers, a key, and a base URL that Ollama requires", async () => {
    const { onSubmit, user } = setup();
    await user.type(screen.getByLabelText("Name"), "Assistant");
    await user.selectOptions(screen.getByLabelText("Type"), "AI");
    expect(screen.queryByLabelText("Bot token")).toBeNull();
    const providers = screen.getByLabelText("Provider");
    expect([...providers.querySelectorAll("option")].map((o) => o.textContent)).toEqual([
      "OpenAI",
      "Anthropic",
      "DeepSeek",
      "Grok",
      "Gemini",
      "Mistral",
      "Groq",
      "Ollama",
    ]);
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(errorOf(screen.getByLabelText("API key"))).toContain("API key");

    await user.selectOptions(providers, "Ollama");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(errorOf(screen.getByLabelText("Base URL"))).toContain("Ollama needs");
    expect(screen.getByLabelText("API key")).not.toHaveAttribute("aria-invalid");
    await user.type(screen.getByLabelText("Base URL"), "http://127.0.0.1:11434");
    await user.type(screen.getByRole("combobox", { name: "Model" }), "llama3.2");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(onSubmit).toHaveBeenCalledWith({
      name: "Assistant",
      type: "AI",
      credentials: { ai: { provider: "OLLAMA", apiKey: null, baseUrl: "http://127.0.0.1:11434", model: "llama3.2" } },
    });
  });

  it("follows the Webhook type: a URL and an optional signing secret", async () => {
    const { onSubmit, user } = setup();
    await user.type(screen.getByLabelText("Name"), "Orders");
    await user.selectOptions(screen.getByLabelText("Type"), "Webhook");
    await user.type(screen.getByLabelText("URL"), "ftp://example.test");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(errorOf(screen.getByLabelText("URL"))).toContain("http:// or https://");
    await user.clear(screen.getByLabelText("URL"));
    await user.type(screen.getByLabelText("URL"), "https://hooks.example.test/in");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(onSubmit).toHaveBeenCalledWith({
      name: "Orders",
      type: "WEBHOOK",
      credentials: { webhook: { url: "https://hooks.example.test/in", signingSecret: null } },
    });
  });

  it("shows the server's field errors at their fields, by path", async () => {
    const { user } = setup({
      fieldErrors: {
        "credentials.webhook.signingSecret": "Use a Standard Webhooks secret, or leave it empty.",
        "config.retries": "Must be a number.",
      },
    });
    await user.type(screen.getByLabelText("Name"), "Orders");
    await user.selectOptions(screen.getByLabelText("Type"), "Webhook");
    await user.type(screen.getByLabelText("URL"), "https://hooks.example.test/in");
    await user.type(screen.getByLabelText("Signing secret"), "short");
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(await screen.findByText("Use a Standard Webhooks secret, or leave it empty.")).toBeInTheDocument();
    expect(errorOf(screen.getByLabelText("Signing secret"))).toContain("Standard Webhooks secret");
    // A path the form has no field for is still shown, never dropped.
    expect(screen.getByRole("alert")).toHaveTextContent("config.retries: Must be a number.");
    // Editing the field clears its error.
    await user.type(screen.getByLabelText("Signing secret"), "-longer-secret");
    expect(screen.getByLabelText("Signing secret")).not.toHaveAttribute("aria-invalid");
  });

  it("shows a failure that is not about a field", async () => {
    const { user } = setup({ message: "Gateway limit reached (10)." });
    await user.type(screen.getByLabelText("Name"), "Bot");
    await user.type(screen.getByLabelText("Bot token"), TOKEN);
    await user.click(screen.getByRole("button", { name: "Create gateway" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Gateway limit reached (10).");
  });
});
