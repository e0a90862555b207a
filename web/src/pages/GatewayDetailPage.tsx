import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import {
  ConnectGatewayDocument,
  DeleteGatewayDocument,
  DisconnectGatewayDocument,
  GatewayDetailDocument,
  ResetGatewayCircuitDocument,
  TestGatewayDocument,
  type GatewayDetailQuery,
  type TestGatewayMutation,
} from "../gql/graphql";
import { StatusBadge } from "../components/StatusBadge";
import { Alert, Spinner } from "../components/Field";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EditGatewayForm } from "../components/EditGatewayForm";
import { TelegramPanel } from "../components/TelegramPanel";
import { AIChatPanel } from "../components/AIChatPanel";
import { describeCombinedError, describeError } from "../lib/errors";
import { AI_PROVIDER_LABELS, formatDateTime, GATEWAY_TYPE_LABELS } from "../lib/format";
import { useLiveGateways, withLive } from "../lib/live";
import { useScope } from "../lib/scope";

type Gateway = NonNullable<GatewayDetailQuery["gateway"]>;
type TestOutcome = TestGatewayMutation["testGateway"];

function credentialHint(info: Gateway["credentialInfo"]): string {
  switch (info.__typename) {
    case "TelegramBotCredentialInfo":
      return `${info.botTokenHint}${info.botUsername ? ` (@${info.botUsername})` : ""}`;
    case "AICredentialInfo":
      return [
        AI_PROVIDER_LABELS[info.provider],
        info.apiKeyHint ? `key ${info.apiKeyHint}` : "no key",
        info.model ? `model ${info.model}` : null,
        info.baseUrl,
      ]
        .filter(Boolean)
        .join(" · ");
    case "WebhookCredentialInfo":
      return `${info.url}${info.hasSigningSecret ? " · signed" : ""}`;
    case "UndecryptableCredentialInfo":
      return info.message;
  }
}

/** The signing secret the server generated for a new webhook target, handed over by the add
 * page. It is taken out of the history entry at once, so a reload or a return never shows it
 * again: the server itself never answers it twice. */
function useRevealedSecret(): string | null {
  const location = useLocation();
  const navigate = useNavigate();
  const state = location.state as { revealedSigningSecret?: unknown } | null;
  const [secret] = useState(() =>
    typeof state?.revealedSigningSecret === "string" ? state.revealedSigningSecret : null,
  );
  useEffect(() => {
    if (state?.revealedSigningSecret !== undefined) navigate(location.pathname, { replace: true, state: null });
  }, [state, navigate, location.pathname]);
  return secret;
}

/** `/gateways/:id`: everything about one gateway, and what the viewer's role allows on it. */
export function GatewayDetailPage() {
  const { id = "" } = useParams();
  const scope = useScope();
  const navigate = useNavigate();
  const revealedSecret = useRevealedSecret();
  const [detail, reexecute] = useQuery({ query: GatewayDetailDocument, variables: { id } });
  const live = useLiveGateways(id, () => reexecute({ requestPolicy: "network-only" }));
  const [testState, test] = useMutation(TestGatewayDocument);
  const [connectState, connect] = useMutation(ConnectGatewayDocument);
  const [disconnectState, disconnect] = useMutation(DisconnectGatewayDocument);
  const [resetState, reset] = useMutation(ResetGatewayCircuitDocument);
  const [deleteState, remove] = useMutation(DeleteGatewayDocument);
  const [testOutcome, setTestOutcome] = useState<TestOutcome | { __typename: "NetworkFailure"; message: string } | null>(null);
  const [actionMessage, setActionMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  if (detail.fetching && !detail.data) return <Spinner label="Loading gateway…" />;
  if (detail.error && !detail.data) return <Alert>{describeCombinedError(detail.error)}</Alert>;
  const base = detail.data?.gateway;
  if (!base) {
    return (
      <section>
        <h1>Gateway not found</h1>
        <p>It does not exist, was deleted, or belongs to another scope.</p>
        <Link to="/gateways">Back to the gateways</Link>
      </section>
    );
  }
  const gateway = withLive(base, live.latest);

  async function runTest() {
    setTestOutcome(null);
    const result = await test({ id });
    if (result.error) setTestOutcome({ __typename: "NetworkFailure", message: describeCombinedError(result.error) });
    else if (result.data) setTestOutcome(result.data.testGateway);
  }

  async function runLifecycle(which: "connect" | "disconnect") {
    setActionMessage(null);
    const result = which === "connect" ? await connect({ id }) : await disconnect({ id });
    if (result.error) return setActionMessage({ kind: "error", text: describeCombinedError(result.error) });
    const value = result.data && ("connectGateway" in result.data ? result.data.connectGateway : result.data.disconnectGateway);
    if (!value) return;
    if (value.__typename === "Gateway") setActionMessage({ kind: "success", text: which === "connect" ? "Connected." : "Disconnected." });
    else setActionMessage({ kind: "error", text: describeError(value) });
  }

  async function runReset() {
    setActionMessage(null);
    const result = await reset({ id });
    if (result.error) return setActionMessage({ kind: "error", text: describeCombinedError(result.error) });
    const value = result.data?.resetGatewayCircuit;
    if (value && value.__typename !== "Gateway") setActionMessage({ kind: "error", text: describeError(value) });
    else setActionMessage({ kind: "success", text: "Circuit reset." });
  }

  async function runDelete() {
    setDeleteError(null);
    const result = await remove({ id });
    if (result.error) return setDeleteError(describeCombinedError(result.error));
    const value = result.data?.deleteGateway;
    if (value?.__typename === "DeletedGateway") navigate("/gateways");
    else if (value) setDeleteError(describeError(value));
  }

  const busy = connectState.fetching || disconnectState.fetching;
  const circuit = gateway.circuit;

  return (
    <section aria-labelledby="gateway-title">
      <p>
        <Link to="/gateways">← Gateways</Link>
      </p>
      <div className="page-head">
        <h1 id="gateway-title">{gateway.name}</h1>
        <StatusBadge status={gateway.status} />
      </div>

      {revealedSecret ? (
        <section aria-label="Signing secret" className="alert alert-info">
          <p>
            Deliveries are signed with this Standard Webhooks secret. Copy it to the receiver now: it is
            shown only once.
          </p>
          <code className="secret">{revealedSecret}</code>
        </section>
      ) : null}

      <div className="toolbar" aria-label="Gateway actions" role="group">
        <button type="button" onClick={() => void runTest()} disabled={testState.fetching}>
          {testState.fetching ? "Testing…" : "Test connection"}
        </button>
        {scope.canWrite ? (
          <>
            {gateway.status === "CONNECTED" ? (
              <button type="button" onClick={() => void runLifecycle("disconnect")} disabled={busy}>
                Disconnect
              </button>
            ) : (
              <button type="button" className="primary" onClick={() => void runLifecycle("connect")} disabled={busy}>
                Connect
              </button>
            )}
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          </>
        ) : (
          <span className="muted">Your role ({scope.role?.toLowerCase()}) can read and test this gateway.</span>
        )}
        {busy ? <span className="muted" aria-live="polite">Working…</span> : null}
      </div>
      {actionMessage ? <Alert kind={actionMessage.kind}>{actionMessage.text}</Alert> : null}

      <section role="region" aria-label="Test result" className={testOutcome ? "test-result card" : "test-result"}>
        {testOutcome ? <TestResult outcome={testOutcome} /> : null}
      </section>

      <div className="grid">
        <div className="card">
          <h2>Details</h2>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{GATEWAY_TYPE_LABELS[gateway.type]}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={gateway.status} />
            </dd>
            <dt>Last error</dt>
            <dd>
              {gateway.lastError ? (
                <>
                  <span className="error-text">{gateway.lastError}</span>{" "}
                  <span className="muted small">{formatDateTime(gateway.lastErrorAt)}</span>
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Credentials</dt>
            <dd className="mono">{credentialHint(gateway.credentialInfo)}</dd>
            <dt>Circuit</dt>
            <dd>
              {circuit.state.replace("_", " ").toLowerCase()}
              {circuit.failures ? ` · ${circuit.failures} recent failure${circuit.failures === 1 ? "" : "s"}` : ""}
              {circuit.retryAfterSeconds ? ` · probes again in ${Math.ceil(circuit.retryAfterSeconds)} s` : ""}
              {scope.canWrite && circuit.state !== "CLOSED" ? (
                <button type="button" className="link" onClick={() => void runReset()} disabled={resetState.fetching}>
                  Reset circuit
                </button>
              ) : null}
            </dd>
            <dt>Last connected</dt>
            <dd>{formatDateTime(gateway.lastConnectedAt)}</dd>
            <dt>Owner</dt>
            <dd>{gateway.owner.name}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(gateway.createdAt)}</dd>
            <dt>Updated</dt>
            <dd>{formatDateTime(gateway.updatedAt)}</dd>
          </dl>
        </div>
        {scope.canWrite ? <EditGatewayForm gateway={gateway} /> : null}
      </div>

      {gateway.type === "TELEGRAM_BOT" ? <TelegramPanel gatewayId={gateway.id} canSend={scope.canWrite} /> : null}
      {gateway.type === "AI" && scope.canWrite ? <AIChatPanel gatewayId={gateway.id} /> : null}

      <div className="card">
        <h2>Audit events</h2>
        {gateway.auditEvents.length === 0 ? (
          <p className="muted">No events yet.</p>
        ) : (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">By</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {gateway.auditEvents.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap">{formatDateTime(e.createdAt)}</td>
                  <td className="mono nowrap">{e.action}</td>
                  <td>{e.actor?.name ?? "system"}</td>
                  <td className="mono small">{JSON.stringify(e.metadata)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {confirming ? (
        <ConfirmDialog
          title={`Delete ${gateway.name}?`}
          confirmLabel="Delete"
          busy={deleteState.fetching}
          onConfirm={() => void runDelete()}
          onCancel={() => setConfirming(false)}
        >
          <p>The gateway and its stored credentials are removed. Its audit trail stays.</p>
          {deleteError ? <Alert>{deleteError}</Alert> : null}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function TestResult({ outcome }: { outcome: TestOutcome | { __typename: "NetworkFailure"; message: string } }) {
  if (outcome.__typename !== "GatewayTestResult") {
    return (
      <p className="outcome outcome-failure">
        <strong>Test failed:</strong> {outcome.message}
      </p>
    );
  }
  const details = outcome.details && typeof outcome.details === "object" ? Object.entries(outcome.details) : [];
  return (
    <div className={outcome.success ? "outcome outcome-success" : "outcome outcome-failure"}>
      <p>
        <strong>{outcome.success ? "Success" : "Failed"}</strong>
        {outcome.latencyMs != null ? ` · ${Math.round(outcome.latencyMs)} ms` : ""}
        <span className="muted small"> · {formatDateTime(outcome.testedAt)}</span>
      </p>
      {outcome.error ? <p className="error-text">{outcome.error}</p> : null}
      {details.length ? (
        <dl className="facts small">
          {details.map(([key, value]) => (
            <div key={key} className="fact-row">
              <dt>{key}</dt>
              <dd className="mono">{value === null || value === "" ? "—" : typeof value === "string" ? value : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </div>
  );
}
