import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { AiChatDocument, type ChatMessageInput } from "../gql/graphql";
import { describeCombinedError, describeError } from "../lib/errors";
import { Alert, Field } from "./Field";

/** A small chat box against an AI gateway; the whole conversation is sent each turn. */
export function AIChatPanel({ gatewayId }: { gatewayId: string }) {
  const [state, chat] = useMutation(AiChatDocument);
  const [messages, setMessages] = useState<ChatMessageInput[]>([]);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [meta, setMeta] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!draft.trim()) return setError("Write a message first.");
    setError(null);
    const conversation: ChatMessageInput[] = [...messages, { role: "USER", content: draft.trim() }];
    setMessages(conversation);
    setDraft("");
    const result = await chat({ input: { gatewayId, messages: conversation } });
    if (result.error) return setError(describeCombinedError(result.error));
    const value = result.data?.aiChat;
    if (!value) return;
    if (value.__typename === "AIChatCompletion") {
      setMessages([...conversation, { role: "ASSISTANT", content: value.reply.content }]);
      setMeta(`${value.model} · ${Math.round(value.latencyMs)} ms`);
    } else {
      setError(describeError(value));
    }
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="AI chat" noValidate>
      <h2>Chat</h2>
      <ol className="chat" aria-live="polite">
        {messages.map((m, i) => (
          <li key={i} className={`bubble bubble-${m.role.toLowerCase()}`}>
            <span className="sr-only">{m.role === "USER" ? "You" : "Assistant"}: </span>
            {m.content}
          </li>
        ))}
        {state.fetching ? <li className="muted">Waiting for the answer…</li> : null}
      </ol>
      {meta ? <p className="muted small">{meta}</p> : null}
      {error ? <Alert>{error}</Alert> : null}
      <Field label="Message">
        {(p) => <textarea {...p} rows={2} value={draft} onChange={(e) => setDraft(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="submit" disabled={state.fetching}>
          Send
        </button>
        {messages.length ? (
          <button type="button" className="link" onClick={() => setMessages([])}>
            New conversation
          </button>
        ) : null}
      </div>
    </form>
  );
}
