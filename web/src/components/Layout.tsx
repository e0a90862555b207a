import { useEffect } from "react";
import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { LogoutDocument, ViewerDocument } from "../gql/graphql";
import { useSession } from "../lib/session";
import { ScopeContext, scopeOf } from "../lib/scope";
import { describeCombinedError } from "../lib/errors";
import { ScopeSwitcher } from "./ScopeSwitcher";
import { Alert, Spinner } from "./Field";

/** The signed-in frame: header with navigation, scope switcher and sign-out. */
export function Layout() {
  const session = useSession();
  const navigate = useNavigate();
  const [viewer] = useQuery({ query: ViewerDocument });
  const [, logout] = useMutation(LogoutDocument);
  const memberships = viewer.data?.viewer?.memberships ?? [];
  const scope = scopeOf(session.organizationId, memberships);

  useEffect(() => {
    // The viewer left (or never was in) the stored organization: back to the personal scope.
    if (viewer.data?.viewer && session.organizationId && !scope.organizationName) session.setOrganizationId(null);
    // Not (or no longer) a member of the stored organization: every call in it is FORBIDDEN.
    if (viewer.error?.graphQLErrors.some((e) => e.extensions.code === "FORBIDDEN")) session.setOrganizationId(null);
    // A token the server no longer knows (expired, revoked elsewhere).
    if (viewer.data && viewer.data.viewer === null && !viewer.fetching) session.signOut("Your session has ended. Please sign in again.");
  }, [viewer.data, viewer.error, viewer.fetching, session, scope.organizationName]);

  async function signOut() {
    // Revoke the token server-side; the local session ends either way.
    await logout({});
    session.signOut();
    navigate("/signin");
  }

  return (
    <ScopeContext.Provider value={scope}>
      <header className="topbar">
        <NavLink to="/gateways" className="brand">
          Gateway console
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/gateways">Gateways</NavLink>
          <NavLink to="/organizations">Organizations</NavLink>
          <NavLink to="/explorer">API explorer</NavLink>
        </nav>
        <div className="topbar-end">
          <ScopeSwitcher
            organizations={memberships.map((m) => ({ id: m.organization.id, name: m.organization.name, role: m.role }))}
            value={session.organizationId}
            onChange={session.setOrganizationId}
          />
          <span className="who" title={session.user?.email}>
            {session.user?.name}
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        {viewer.error ? <Alert>{describeCombinedError(viewer.error)}</Alert> : null}
        {viewer.fetching && !viewer.data ? <Spinner /> : <Outlet />}
      </main>
    </ScopeContext.Provider>
  );
}
