import type { CodegenConfig } from "@graphql-codegen/cli";

// The console's operations are the documents in ../frontend-contract (the Python contract tests
// execute the very same files), typed against the committed ../schema.graphql.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../frontend-contract/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars: {
          DateTime: "string",
          JSON: "import('../lib/json').JsonValue",
        },
      },
    },
  },
};

export default config;
