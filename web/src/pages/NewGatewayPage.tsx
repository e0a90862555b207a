import { Link, useNavigate } from "react-router-dom";
import { useMutation } from "urql";
import { CreateGatewayDocument, type CreateGatewayInput } from "../gql/graphql";
import { GatewayForm, type SubmitOutcome } from "../components/GatewayForm";
import { Alert } from "../components/Field";
import { describeCombinedError, describeError, fieldErrorsOf } from "../lib/errors";
import { useScope } from "../lib/scope";

/** `/gateways/new`: the add form; on success the new gateway's page. */
export function NewGatewayPage() {
  const scope = useScope();
  const navigate = useNavigate();
  const [, create] = useMutation(CreateGatewayDocument);

  async function submit(input: CreateGatewayInput): Promise<SubmitOutcome | undefined> {
    const result = await create({ input });
    if (result.error) return { message: describeCombinedError(result.error) };
    const value = result.data?.createGateway;
    if (!value) return { message: "The server sent no answer." };
    if (value.__typename === "Gateway") {
      // A generated signing secret is in this response only: hand it to the gateway's page,
      // which shows it once.
      const revealed = value.revealedSigningSecret ?? null;
      navigate(`/gateways/${value.id}`, { state: revealed ? { revealedSigningSecret: revealed } : null });
      return undefined;
    }
    if (value.__typename === "ValidationError") {
      const fieldErrors = fieldErrorsOf(value, "input.");
      return { fieldErrors, message: Object.keys(fieldErrors).length ? undefined : describeError(value) };
    }
    return { message: describeError(value) };
  }

  return (
    <section aria-labelledby="new-title" className="narrow">
      <p>
        <Link to="/gateways">← Gateways</Link>
      </p>
      <h1 id="new-title">Add gateway</h1>
      {scope.canWrite ? (
        <GatewayForm onSubmit={submit} />
      ) : (
        <Alert kind="info">Only an owner or admin of {scope.organizationName ?? "this organization"} can add gateways.</Alert>
      )}
    </section>
  );
}
