"""Use cases: each one transaction over the store, calling connectors only from jobs."""
