"""Metrics (Prometheus) and tracing (OpenTelemetry); see `setup.build_observability`.

Kept import-light: `outcome` is imported by the GraphQL layer in every configuration, and
nothing here imports OpenTelemetry unless tracing is configured.
"""
