"""Benchmarks that print ratios against a baseline measured in the same run.

    python -m bench [gateways|webhook|fanout|all] [--duration S] [--database sqlite|postgres|both]

Every figure comes from a real uvicorn process (one worker) serving the real app, built by
`app.main.create_app`, with the baseline routes added to the same Starlette app, so both sides
of a ratio share the process, the database connection and the load generator. See README.md.
"""
