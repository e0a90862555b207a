import { Link, useSearchParams } from "react-router-dom";
import { useQuery } from "urql";
import { GatewayListDocument, type GatewayStatus, type GatewayType } from "../gql/graphql";
import { StatusBadge } from "../components/StatusBadge";
import { Alert, Spinner } from "../components/Field";
import { describeCombinedError } from "../lib/errors";
import { formatDateTime, GATEWAY_TYPE_LABELS } from "../lib/format";
import { useLiveGateways, withLive } from "../lib/live";
import { useScope } from "../lib/scope";

const PAGE_SIZE = 20;
const STATUSES: GatewayStatus[] = ["CONNECTED", "DISCONNECTED", "ERROR", "CONNECTING"];
const STATUS_LABELS: Record<GatewayStatus, string> = {
  CONNECTED: "Connected",
  DISCONNECTED: "Disconnected",
  ERROR: "Error",
  CONNECTING: "Connecting",
};

/** `/gateways`: the scope's gateways, filtered and paged (in the URL), updated live. */
export function GatewayListPage() {
  const scope = useScope();
  const [params, setParams] = useSearchParams();
  const type = (params.get("type") || null) as GatewayType | null;
  const status = (params.get("status") || null) as GatewayStatus | null;
  const page = Math.max(1, Number(params.get("page")) || 1);

  const [result, reexecute] = useQuery({
    query: GatewayListDocument,
    variables: { filter: type || status ? { type, status } : null, page, pageSize: PAGE_SIZE },
  });
  const live = useLiveGateways(null, () => reexecute({ requestPolicy: "network-only" }));

  function update(name: string, value: string | null) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "page") next.delete("page");
    setParams(next);
  }

  const data = result.data?.gateways;
  const filtered = Boolean(type || status);

  return (
    <section aria-labelledby="gateways-title">
      <div className="page-head">
        <h1 id="gateways-title">
          Gateways <span className="muted">· {scope.organizationName ?? "Personal"}</span>
        </h1>
        {scope.canWrite ? (
          <Link to="/gateways/new" className="button primary">
            Add gateway
          </Link>
        ) : (
          <span className="muted">Read-only: your role ({scope.role?.toLowerCase()}) can view and test gateways.</span>
        )}
      </div>

      <div className="filters" role="search" aria-label="Filter gateways">
        <label>
          Type
          <select value={type ?? ""} onChange={(e) => update("type", e.target.value || null)}>
            <option value="">All types</option>
            {(Object.keys(GATEWAY_TYPE_LABELS) as GatewayType[]).map((t) => (
              <option key={t} value={t}>
                {GATEWAY_TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status ?? ""} onChange={(e) => update("status", e.target.value || null)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <span className={live.error ? "live live-off" : "live"} title="Status changes appear without a reload">
          {live.error ? "Live updates unavailable" : "Live"}
        </span>
      </div>

      {result.error ? <Alert>{describeCombinedError(result.error)}</Alert> : null}
      {result.fetching && !data ? <Spinner label="Loading gateways…" /> : null}

      {data && data.items.length === 0 ? (
        <div className="empty card">
          {filtered ? (
            <p>No gateway matches these filters.</p>
          ) : (
            <>
              <h2>No gateways yet</h2>
              <p>A gateway connects this scope to a Telegram bot, an AI provider or a webhook target.</p>
              {scope.canWrite ? (
                <p>
                  Use <strong>Add gateway</strong> to create the first one.
                </p>
              ) : (
                <p>An owner or admin of the organization can add one.</p>
              )}
            </>
          )}
        </div>
      ) : null}

      {data && data.items.length > 0 ? (
        <>
          <table className="table">
            <caption className="sr-only">Gateways of this scope</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Last error</th>
                <th scope="col">Last connected</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => {
                const g = withLive(item, live.latest);
                return (
                  <tr key={g.id}>
                    <td>
                      <Link to={`/gateways/${g.id}`}>{g.name}</Link>
                    </td>
                    <td>{GATEWAY_TYPE_LABELS[g.type]}</td>
                    <td>
                      <StatusBadge status={g.status} />
                    </td>
                    <td className="error-cell">
                      {g.lastError ? (
                        <>
                          <span>{g.lastError}</span>
                          <span className="muted small"> {formatDateTime(g.lastErrorAt)}</span>
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="nowrap">{formatDateTime(g.lastConnectedAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={!data.hasPreviousPage} onClick={() => update("page", String(page - 1))}>
              Previous
            </button>
            <span>
              Page {data.page} of {Math.max(1, data.totalPages)} · {data.total} gateway{data.total === 1 ? "" : "s"}
            </span>
            <button type="button" disabled={!data.hasNextPage} onClick={() => update("page", String(page + 1))}>
              Next
            </button>
          </nav>
        </>
      ) : null}
    </section>
  );
}
