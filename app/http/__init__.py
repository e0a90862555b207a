"""HTTP routes that are not GraphQL: the web console."""
