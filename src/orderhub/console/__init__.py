"""The console's built files (from console/, built by the install); served by the API."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIST", "built"]

DIST = Path(__file__).resolve().parent / "dist"


def built() -> bool:
    """Whether the console was built into this package."""
    return (DIST / "index.html").is_file()
