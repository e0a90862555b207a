import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Client, Provider, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { useSession } from "./session";

/** Close code the server uses for a socket whose token or organization is refused. */
export const WS_FORBIDDEN = 4403;

export function socketUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

/** Bumped each time the socket comes back after a drop: pages refetch what they may have missed. */
const ReconnectContext = createContext(0);
export const useReconnects = () => useContext(ReconnectContext);

interface Options {
  token: string | null;
  organizationId: string | null;
  onUnauthenticated: () => void;
  onReconnect: () => void;
}

/**
 * The one GraphQL client: HTTP POST for queries and mutations, graphql-ws (graphql-transport-ws)
 * for subscriptions. It is rebuilt when the token or scope changes, which drops every cached
 * result of the previous scope and makes the pages fetch again.
 */
export function buildClient({ token, organizationId, onUnauthenticated, onReconnect }: Options): {
  client: Client;
  ws: WsClient;
} {
  const ws = createWsClient({
    url: socketUrl(window.location),
    connectionParams: () => ({
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(organizationId ? { organizationId } : {}),
    }),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event instanceof CloseEvent && event.code === WS_FORBIDDEN),
    on: {
      // A connection made by a retry follows a drop: events sent meanwhile are lost.
      connected: (_socket, _payload, wasRetry) => {
        if (wasRetry) onReconnect();
      },
      closed: (event) => {
        if (event instanceof CloseEvent && event.code === WS_FORBIDDEN) onUnauthenticated();
      },
    },
  });

  const client = new Client({
    url: "/graphql",
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(organizationId ? { "X-Organization-Id": organizationId } : {}),
      },
    }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions.code === "UNAUTHENTICATED")) onUnauthenticated();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const dispose = ws.subscribe(input, sink);
              return { unsubscribe: dispose };
            },
          };
        },
      }),
    ],
  });
  return { client, ws };
}

export function GraphQLProvider({ children }: { children: ReactNode }) {
  const { token, organizationId, signOut } = useSession();
  const [reconnects, setReconnects] = useState(0);
  const built = useMemo(
    () =>
      buildClient({
        token,
        organizationId,
        onUnauthenticated: () => signOut("Your session has ended. Please sign in again."),
        onReconnect: () => setReconnects((n) => n + 1),
      }),
    [token, organizationId, signOut],
  );
  // The socket of the previous token or scope is closed once a new client replaces it (not in
  // an effect cleanup: React's StrictMode runs those on a live client in development).
  const previous = useRef<WsClient | null>(null);
  useEffect(() => {
    if (previous.current && previous.current !== built.ws) void previous.current.dispose();
    previous.current = built.ws;
  }, [built]);
  return (
    <ReconnectContext.Provider value={reconnects}>
      <Provider value={built.client}>{children}</Provider>
    </ReconnectContext.Provider>
  );
}
