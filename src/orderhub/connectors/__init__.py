"""Connectors to external systems, found by platform name."""
