import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { SendTelegramMessageDocument, TelegramUpdatesDocument } from "../gql/graphql";
import { describeCombinedError, describeError, fieldErrorsOf, type FieldErrors } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { Alert, Field, Spinner } from "./Field";

/** A Telegram gateway's extras: send a message (writers) and the latest received updates. */
export function TelegramPanel({ gatewayId, canSend }: { gatewayId: string; canSend: boolean }) {
  const [updates, refetch] = useQuery({ query: TelegramUpdatesDocument, variables: { gatewayId, first: 10 } });
  const [state, send] = useMutation(SendTelegramMessageDocument);
  const [chatId, setChatId] = useState("");
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const found: FieldErrors = {};
    if (!chatId.trim()) found.chatId = "Enter the chat id.";
    if (!text.trim()) found.text = "Enter the message.";
    setErrors(found);
    if (Object.keys(found).length) return;
    const result = await send({ input: { gatewayId, chatId: chatId.trim(), text } });
    if (result.error) return setMessage({ kind: "error", text: describeCombinedError(result.error) });
    const value = result.data?.sendTelegramMessage;
    if (!value) return;
    if (value.__typename === "GatewayActionResult") {
      setText("");
      setMessage({ kind: "success", text: "Message sent." });
    } else {
      if (value.__typename === "ValidationError") setErrors(fieldErrorsOf(value, "input."));
      setMessage({ kind: "error", text: describeError(value) });
    }
  }

  const items = updates.data?.telegramUpdates ?? [];
  return (
    <div className="grid">
      {canSend ? (
        <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-label="Send a Telegram message">
          <h2>Send a message</h2>
          {message ? <Alert kind={message.kind}>{message.text}</Alert> : null}
          <Field label="Chat id" error={errors.chatId}>
            {(p) => <input {...p} value={chatId} inputMode="numeric" onChange={(e) => setChatId(e.target.value)} />}
          </Field>
          <Field label="Text" error={errors.text}>
            {(p) => <textarea {...p} rows={3} value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
          <div className="actions">
            <button type="submit" disabled={state.fetching}>
              {state.fetching ? "Sending…" : "Send message"}
            </button>
          </div>
        </form>
      ) : null}
      <div className="card">
        <div className="card-head">
          <h2>Latest updates</h2>
          <button type="button" className="link" onClick={() => refetch({ requestPolicy: "network-only" })}>
            Refresh
          </button>
        </div>
        {updates.error ? <Alert>{describeCombinedError(updates.error)}</Alert> : null}
        {updates.fetching && !updates.data ? <Spinner /> : null}
        {updates.data && items.length === 0 ? (
          <p className="muted">No updates received yet. Telegram delivers them once the gateway is connected.</p>
        ) : null}
        {items.length ? (
          <ul className="updates">
            {items.map((u) => (
              <li key={u.id}>
                <span className="mono small">{u.updateType}</span> <strong>{u.text ?? "—"}</strong>
                <span className="muted small">
                  {" "}
                  chat {u.chatId ?? "—"} · {formatDateTime(u.receivedAt)}
                </span>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
