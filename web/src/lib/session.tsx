import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

/** Who is signed in and in which scope; kept in localStorage so a reload keeps the session. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

export interface Session {
  token: string | null;
  user: SessionUser | null;
  /** The organization whose scope is shown; null is the personal scope. */
  organizationId: string | null;
  signIn: (token: string, user: SessionUser) => void;
  /** Forget the session locally (the server-side logout is the caller's business). */
  signOut: (reason?: string) => void;
  setOrganizationId: (id: string | null) => void;
  /** Why the last session ended when it was not the user's choice (e.g. it expired). */
  endReason: string | null;
}

const TOKEN_KEY = "gateway-console.token";
const USER_KEY = "gateway-console.user";
const SCOPE_KEY = "gateway-console.organization";

function readUser(): SessionUser | null {
  try {
    const raw = localStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as SessionUser) : null;
  } catch {
    return null;
  }
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(TOKEN_KEY));
  const [user, setUser] = useState<SessionUser | null>(readUser);
  const [organizationId, setOrg] = useState<string | null>(() => localStorage.getItem(SCOPE_KEY));
  const [endReason, setEndReason] = useState<string | null>(null);

  const signIn = useCallback((newToken: string, newUser: SessionUser) => {
    localStorage.setItem(TOKEN_KEY, newToken);
    localStorage.setItem(USER_KEY, JSON.stringify(newUser));
    localStorage.removeItem(SCOPE_KEY);
    setToken(newToken);
    setUser(newUser);
    setOrg(null);
    setEndReason(null);
  }, []);

  const signOut = useCallback((reason?: string) => {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
    localStorage.removeItem(SCOPE_KEY);
    setToken(null);
    setUser(null);
    setOrg(null);
    setEndReason(reason ?? null);
  }, []);

  const setOrganizationId = useCallback((id: string | null) => {
    if (id) localStorage.setItem(SCOPE_KEY, id);
    else localStorage.removeItem(SCOPE_KEY);
    setOrg(id);
  }, []);

  const value = useMemo<Session>(
    () => ({ token, user, organizationId, signIn, signOut, setOrganizationId, endReason }),
    [token, user, organizationId, signIn, signOut, setOrganizationId, endReason],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

export { SessionContext };
