import { useMemo } from "react";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { createClient } from "graphql-ws";
import "graphiql/graphiql.css";
import { socketUrl } from "../lib/client";
import { useSession } from "../lib/session";

const DEFAULT_QUERY = `# The API explorer: queries run with the console's session and scope.
query Overview {
  viewer { email name }
  gateways(pageSize: 5) { total items { id name type status lastError } }
}
`;

/**
 * `/explorer`: GraphiQL, bundled with the console (loaded as its own chunk, nothing from a CDN),
 * sending the console's token and scope over HTTP and the WebSocket.
 */
export default function ExplorerPage() {
  const { token, organizationId } = useSession();
  const fetcher = useMemo(() => {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (organizationId) headers["X-Organization-Id"] = organizationId;
    const wsClient = createClient({
      url: socketUrl(window.location),
      lazy: true,
      connectionParams: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(organizationId ? { organizationId } : {}),
      },
    });
    return createGraphiQLFetcher({ url: "/graphql", headers, wsClient });
  }, [token, organizationId]);
  return (
    <div className="explorer">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} shouldPersistHeaders={false} />
    </div>
  );
}
