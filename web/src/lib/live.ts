import { useEffect, useState } from "react";
import { useSubscription } from "urql";
import { GatewayStatusChangedDocument, type GatewayStatus } from "../gql/graphql";
import { useReconnects } from "./client";

/** The live part of a gateway, as status events carry it. */
export interface LiveGateway {
  id: string;
  status: GatewayStatus;
  lastError?: string | null;
  lastErrorAt?: string | null;
  lastConnectedAt?: string | null;
  updatedAt: string;
}

/**
 * Status events of the scope (or of one gateway), newest per gateway. `refetch` runs when the
 * socket comes back after a drop (events sent meanwhile are lost) and whenever `resetKey`
 * changes the page's data, the overlay is dropped so fresh query results win.
 */
export function useLiveGateways(gatewayId: string | null, refetch: () => void) {
  const [latest, setLatest] = useState<Record<string, LiveGateway>>({});
  const reconnects = useReconnects();
  const [subscription] = useSubscription({ query: GatewayStatusChangedDocument, variables: { gatewayId } }, (_, event) => {
    const gateway = event.gatewayStatusChanged.gateway;
    setLatest((current) => {
      const known = current[gateway.id];
      // Events may arrive out of order after a reconnect: keep the newest.
      if (known && known.updatedAt > gateway.updatedAt) return current;
      return { ...current, [gateway.id]: gateway };
    });
    return event;
  });

  useEffect(() => {
    if (reconnects > 0) refetch();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only on a reconnect
  }, [reconnects]);

  return { latest, error: subscription.error };
}

/** `base` with the live fields of a newer event, if any. */
export function withLive<T extends { id: string; updatedAt: string }>(base: T, latest: Record<string, LiveGateway>): T {
  const live = latest[base.id];
  if (!live || live.updatedAt < base.updatedAt) return base;
  return { ...base, ...live };
}
