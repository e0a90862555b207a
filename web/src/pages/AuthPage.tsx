import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { useNavigate } from "react-router-dom";
import { LoginDocument, RegisterDocument } from "../gql/graphql";
import { Alert, Field } from "../components/Field";
import { describeCombinedError, describeError, fieldErrorsOf, type FieldErrors } from "../lib/errors";
import { useSession } from "../lib/session";

type Mode = "signin" | "register";

/** Sign in or create an account: one form at a time, switched by tabs. */
export function AuthPage() {
  const { signIn, endReason } = useSession();
  const navigate = useNavigate();
  const [mode, setMode] = useState<Mode>("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<string | null>(null);
  const [login, runLogin] = useMutation(LoginDocument);
  const [register, runRegister] = useMutation(RegisterDocument);
  const busy = login.fetching || register.fetching;

  function switchTo(next: Mode) {
    setMode(next);
    setErrors({});
    setMessage(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const found: FieldErrors = {};
    if (!email.trim()) found.email = "Enter your email address.";
    if (!password) found.password = "Enter your password.";
    if (mode === "register" && !name.trim()) found.name = "Enter your name.";
    setErrors(found);
    if (Object.keys(found).length) return;

    if (mode === "signin") {
      const result = await runLogin({ input: { email: email.trim(), password } });
      const value = result.data?.login;
      if (result.error) return setMessage(describeCombinedError(result.error));
      if (value?.__typename === "AuthPayload") {
        signIn(value.token, value.user);
        return navigate("/gateways");
      }
      if (value) setMessage(describeError(value));
    } else {
      const result = await runRegister({ input: { email: email.trim(), password, name: name.trim() } });
      const value = result.data?.register;
      if (result.error) return setMessage(describeCombinedError(result.error));
      if (value?.__typename === "AuthPayload") {
        signIn(value.token, value.user);
        return navigate("/gateways");
      }
      if (value) {
        const fieldErrors = fieldErrorsOf(value, "input.");
        setErrors(fieldErrors);
        const placed = ["email", "password", "name"];
        const unplaced = Object.keys(fieldErrors).some((f) => !placed.includes(f));
        setMessage(value.__typename === "ValidationError" && !unplaced ? null : describeError(value));
      }
    }
  }

  const tab = (which: Mode, label: string) => (
    <button
      type="button"
      role="tab"
      id={`tab-${which}`}
      aria-selected={mode === which}
      aria-controls="auth-panel"
      className={mode === which ? "tab active" : "tab"}
      onClick={() => switchTo(which)}
    >
      {label}
    </button>
  );

  return (
    <main className="auth">
      <div className="auth-card card">
        <h1 className="brand">Gateway console</h1>
        <div role="tablist" aria-label="Account" className="tabs">
          {tab("signin", "Sign in")}
          {tab("register", "Create account")}
        </div>
        <form
          id="auth-panel"
          role="tabpanel"
          aria-labelledby={`tab-${mode}`}
          onSubmit={(e) => void submit(e)}
          noValidate
        >
          {endReason && !message ? <Alert kind="info">{endReason}</Alert> : null}
          {message ? <Alert>{message}</Alert> : null}
          <Field label="Email" error={errors.email}>
            {(p) => <input {...p} type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Password" error={errors.password}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete={mode === "signin" ? "current-password" : "new-password"}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          {mode === "register" ? (
            <Field label="Name" error={errors.name}>
              {(p) => <input {...p} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
            </Field>
          ) : null}
          <button type="submit" className="primary wide" disabled={busy}>
            {mode === "signin" ? "Sign in" : "Create account"}
          </button>
        </form>
      </div>
    </main>
  );
}
