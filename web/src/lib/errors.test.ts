import { CombinedError } from "urql";
import { describeCombinedError, describeError, fieldErrorsOf } from "./errors";

describe("describeError", () => {
  it("says when an open circuit lets calls through again", () => {
    const text = describeError({ __typename: "CircuitOpenError", message: "Circuit open", retryAfterSeconds: 12.2 });
    expect(text).toContain("circuit open");
    expect(text).toContain("Retry in 13 seconds");
  });

  it("names the upstream's code and status for a ProviderError", () => {
    const text = describeError({
      __typename: "ProviderError",
      message: "Incorrect API key provided",
      code: "AUTH_INVALID",
      upstreamStatus: 401,
      providerRetryAfterSeconds: null,
    });
    expect(text).toBe("The upstream refused the call (AUTH_INVALID, HTTP 401): Incorrect API key provided");
  });

  it("keeps other messages as they are", () => {
    expect(describeError({ __typename: "NotFoundError", message: "Gateway not found." })).toBe("Gateway not found.");
  });
});

describe("describeCombinedError", () => {
  it("explains a network failure", () => {
    const error = new CombinedError({ networkError: new Error("Failed to fetch") });
    expect(describeCombinedError(error)).toContain("Cannot reach the server (Failed to fetch)");
  });
});

describe("fieldErrorsOf", () => {
  it("keys errors by path, without the input prefix, first message per field", () => {
    const errors = fieldErrorsOf(
      {
        __typename: "ValidationError",
        fieldErrors: [
          { field: "input.email", message: "Not an email address." },
          { field: "input.email", message: "second" },
          { field: "name", message: "Required." },
        ],
      },
      "input.",
    );
    expect(errors).toEqual({ email: "Not an email address.", name: "Required." });
  });
});
