import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Spinner } from "./components/Field";
import { AuthPage } from "./pages/AuthPage";
import { GatewayListPage } from "./pages/GatewayListPage";
import { NewGatewayPage } from "./pages/NewGatewayPage";
import { GatewayDetailPage } from "./pages/GatewayDetailPage";
import { OrganizationsPage } from "./pages/OrganizationsPage";
import { useSession } from "./lib/session";

// GraphiQL is large: its own chunk, fetched only when the explorer is opened.
const ExplorerPage = lazy(() => import("./pages/ExplorerPage"));

function RequireSession({ children }: { children: ReactNode }) {
  const { token } = useSession();
  const location = useLocation();
  if (!token) return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  return children;
}

export function App() {
  const { token } = useSession();
  return (
    <Routes>
      <Route path="/signin" element={token ? <Navigate to="/gateways" replace /> : <AuthPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route path="/" element={<Navigate to="/gateways" replace />} />
        <Route path="/gateways" element={<GatewayListPage />} />
        <Route path="/gateways/new" element={<NewGatewayPage />} />
        <Route path="/gateways/:id" element={<GatewayDetailPage />} />
        <Route path="/organizations" element={<OrganizationsPage />} />
        <Route
          path="/explorer"
          element={
            <Suspense fallback={<Spinner label="Loading the explorer…" />}>
              <ExplorerPage />
            </Suspense>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <a href="/gateways">Go to the gateways</a>
      </p>
    </section>
  );
}
