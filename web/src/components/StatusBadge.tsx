import type { GatewayStatus } from "../gql/graphql";

const WORDS: Record<GatewayStatus, string> = {
  CONNECTED: "Connected",
  DISCONNECTED: "Disconnected",
  ERROR: "Error",
  CONNECTING: "Connecting",
};

/** The gateway's status: colour plus the word (never colour alone). */
export function StatusBadge({ status }: { status: GatewayStatus }) {
  return (
    <span role="status" className={`badge badge-${status.toLowerCase()}`}>
      <span className="badge-dot" aria-hidden="true" />
      {WORDS[status]}
    </span>
  );
}

export function statusWord(status: GatewayStatus): string {
  return WORDS[status];
}
