"""Time-ordered identifiers, so ids sort by creation on every database."""

from __future__ import annotations

import os
import time

__all__ = ["new_id"]


def new_id(prefix: str = "") -> str:
    """`prefix` + 12 hex digits of milliseconds + 12 random hex digits."""
    return f"{prefix}{int(time.time() * 1000):012x}{os.urandom(6).hex()}"
