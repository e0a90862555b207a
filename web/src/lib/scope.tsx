import { createContext, useContext } from "react";
import type { OrganizationRole } from "../gql/graphql";

/** The current scope as the pages need it: whose gateways, and what the viewer may do. */
export interface Scope {
  organizationId: string | null;
  organizationName: string | null;
  role: OrganizationRole | null;
  /** Create, change, connect, use and delete gateways (personal scope, OWNER, ADMIN). */
  canWrite: boolean;
}

export const PERSONAL_SCOPE: Scope = { organizationId: null, organizationName: null, role: null, canWrite: true };

export const ScopeContext = createContext<Scope>(PERSONAL_SCOPE);
export const useScope = () => useContext(ScopeContext);

export function scopeOf(
  organizationId: string | null,
  memberships: ReadonlyArray<{ role: OrganizationRole; organization: { id: string; name: string } }>,
): Scope {
  if (!organizationId) return PERSONAL_SCOPE;
  const membership = memberships.find((m) => m.organization.id === organizationId);
  if (!membership) return { organizationId, organizationName: null, role: null, canWrite: false };
  return {
    organizationId,
    organizationName: membership.organization.name,
    role: membership.role,
    canWrite: membership.role !== "MEMBER",
  };
}
