import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { UpdateGatewayDocument } from "../gql/graphql";
import { isJsonObject, type JsonValue } from "../lib/json";
import { describeCombinedError, describeError, fieldErrorsOf, type FieldErrors } from "../lib/errors";
import { Alert, Field } from "./Field";
import { focusFirstInvalid } from "./GatewayForm";

interface Props {
  gateway: { id: string; name: string; config: JsonValue };
}

/** Rename and edit the non-secret configuration (credentials are never re-entered for this). */
export function EditGatewayForm({ gateway }: Props) {
  const [name, setName] = useState(gateway.name);
  const [config, setConfig] = useState(() => JSON.stringify(gateway.config ?? {}, null, 2));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [state, update] = useMutation(UpdateGatewayDocument);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setMessage(null);
    const found: FieldErrors = {};
    if (!name.trim()) found.name = "Enter a name.";
    let parsed: JsonValue = {};
    try {
      parsed = config.trim() ? (JSON.parse(config) as JsonValue) : {};
      if (!isJsonObject(parsed)) found.config = "The configuration is a JSON object, e.g. {\"retries\": 2}.";
    } catch (error) {
      found.config = `Not valid JSON: ${(error as Error).message}`;
    }
    setErrors(found);
    if (Object.keys(found).length) return focusFirstInvalid(form);

    const result = await update({ id: gateway.id, input: { name: name.trim(), config: parsed } });
    if (result.error) return setMessage({ kind: "error", text: describeCombinedError(result.error) });
    const value = result.data?.updateGateway;
    if (!value) return;
    if (value.__typename === "Gateway") {
      setName(value.name);
      setMessage({ kind: "success", text: "Saved." });
    } else if (value.__typename === "ValidationError") {
      const fieldErrors = fieldErrorsOf(value, "input.");
      setErrors(fieldErrors);
      const unplaced = Object.keys(fieldErrors).filter((f) => f !== "name" && f !== "config");
      if (!Object.keys(fieldErrors).length || unplaced.length) setMessage({ kind: "error", text: describeError(value) });
    } else {
      setMessage({ kind: "error", text: describeError(value) });
    }
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-label="Edit gateway">
      <h2>Settings</h2>
      {message ? <Alert kind={message.kind}>{message.text}</Alert> : null}
      <Field label="Name" error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Configuration (JSON)" error={errors.config}>
        {(p) => (
          <textarea {...p} className="mono" rows={5} spellCheck={false} value={config} onChange={(e) => setConfig(e.target.value)} />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {state.fetching ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}
