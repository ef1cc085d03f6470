"""Storage: tables, repositories in seller words, and the unit of work."""
