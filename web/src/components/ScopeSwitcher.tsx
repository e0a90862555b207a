import { useId } from "react";

export interface ScopeOption {
  id: string;
  name: string;
  role: string;
}

interface Props {
  organizations: readonly ScopeOption[];
  value: string | null;
  onChange: (organizationId: string | null) => void;
}

const PERSONAL = "";

/** Personal scope or one of the viewer's organizations (sent as X-Organization-Id). */
export function ScopeSwitcher({ organizations, value, onChange }: Props) {
  const id = useId();
  return (
    <div className="scope">
      <label htmlFor={id}>Scope</label>
      <select id={id} value={value ?? PERSONAL} onChange={(e) => onChange(e.target.value || null)}>
        <option value={PERSONAL}>Personal</option>
        {organizations.map((org) => (
          <option key={org.id} value={org.id}>
            {org.name} ({org.role.toLowerCase()})
          </option>
        ))}
      </select>
    </div>
  );
}
