"""The HTTP API: webhooks and callbacks in, orders and operations out."""
