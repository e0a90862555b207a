import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  AddOrganizationMemberDocument,
  CreateOrganizationDocument,
  OrganizationsDocument,
  type OrganizationRole,
  type OrganizationsQuery,
} from "../gql/graphql";
import { Alert, Field, Spinner } from "../components/Field";
import { describeCombinedError, describeError, fieldErrorsOf, type FieldErrors } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { useSession } from "../lib/session";

type Organization = OrganizationsQuery["organizations"][number];

/** `/organizations`: the viewer's organizations, their members, and creating one. */
export function OrganizationsPage() {
  const [orgs] = useQuery({ query: OrganizationsDocument });
  const list = orgs.data?.organizations ?? [];
  return (
    <section aria-labelledby="orgs-title">
      <h1 id="orgs-title">Organizations</h1>
      {orgs.error ? <Alert>{describeCombinedError(orgs.error)}</Alert> : null}
      {orgs.fetching && !orgs.data ? <Spinner /> : null}
      {orgs.data && list.length === 0 ? (
        <p className="muted">You are not in any organization yet. Create one to share gateways with a team.</p>
      ) : null}
      {list.map((org) => (
        <OrganizationCard key={org.id} org={org} />
      ))}
      <CreateOrganizationForm />
    </section>
  );
}

function CreateOrganizationForm() {
  const { setOrganizationId } = useSession();
  const [state, create] = useMutation(CreateOrganizationDocument);
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    if (!name.trim()) return setErrors({ name: "Enter the organization's name." });
    setErrors({});
    const result = await create({ input: { name: name.trim(), slug: slug.trim() || null } });
    if (result.error) return setMessage(describeCombinedError(result.error));
    const value = result.data?.createOrganization;
    if (!value) return;
    if (value.__typename === "Organization") {
      setName("");
      setSlug("");
      setOrganizationId(value.id);
    } else {
      if (value.__typename === "ValidationError") setErrors(fieldErrorsOf(value, "input."));
      setMessage(describeError(value));
    }
  }

  return (
    <form className="card form narrow" onSubmit={(e) => void submit(e)} noValidate aria-label="Create organization">
      <h2>Create an organization</h2>
      {message ? <Alert>{message}</Alert> : null}
      <Field label="Organization name" error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Slug" error={errors.slug} hint="Optional: derived from the name.">
        {(p) => <input {...p} value={slug} onChange={(e) => setSlug(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="submit" disabled={state.fetching}>
          Create organization
        </button>
      </div>
    </form>
  );
}

function OrganizationCard({ org }: { org: Organization }) {
  const canAdd = org.viewerRole === "OWNER" || org.viewerRole === "ADMIN";
  return (
    <div className="card">
      <div className="card-head">
        <h2>{org.name}</h2>
        <span className="muted">
          {org.slug} · your role: {org.viewerRole.toLowerCase()}
        </span>
      </div>
      <table className="table compact">
        <caption className="sr-only">Members of {org.name}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {org.members.map((m) => (
            <tr key={m.user.id}>
              <td>{m.user.name}</td>
              <td>{m.user.email}</td>
              <td>{m.role.toLowerCase()}</td>
              <td>{formatDateTime(m.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canAdd ? <AddMemberForm organizationId={org.id} viewerRole={org.viewerRole} /> : null}
    </div>
  );
}

export function AddMemberForm({ organizationId, viewerRole }: { organizationId: string; viewerRole: OrganizationRole }) {
  const [state, add] = useMutation(AddOrganizationMemberDocument);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<OrganizationRole>("MEMBER");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const roles: OrganizationRole[] = viewerRole === "OWNER" ? ["MEMBER", "ADMIN", "OWNER"] : ["MEMBER", "ADMIN"];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    if (!email.trim()) return setErrors({ email: "Enter the person's email address." });
    setErrors({});
    const result = await add({ input: { organizationId, email: email.trim(), role } });
    if (result.error) return setMessage({ kind: "error", text: describeCombinedError(result.error) });
    const value = result.data?.addOrganizationMember;
    if (!value) return;
    // The result union may grow (an invitation instead of an immediate membership): anything
    // that is not an error member is a success, named by what it carries.
    if ("message" in value && typeof value.message === "string") {
      if (value.__typename === "ValidationError") setErrors(fieldErrorsOf(value, "input."));
      setMessage({ kind: "error", text: describeError(value) });
      return;
    }
    const added = value.__typename === "Membership" ? `${value.user.name} (${value.user.email}) is now a ${value.role.toLowerCase()}.` : `Invitation sent to ${email.trim()}.`;
    setEmail("");
    setMessage({ kind: "success", text: added });
  }

  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Add member">
      <Field label="Member email" error={errors.email}>
        {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
      </Field>
      <Field label="Role" error={errors.role}>
        {(p) => (
          <select {...p} value={role} onChange={(e) => setRole(e.target.value as OrganizationRole)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r.charAt(0) + r.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" disabled={state.fetching}>
        Add member
      </button>
      {message ? <Alert kind={message.kind}>{message.text}</Alert> : null}
    </form>
  );
}
