"""The outbox worker and the scheduler of periodic work."""
