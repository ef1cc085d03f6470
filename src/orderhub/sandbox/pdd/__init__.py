"""Emulator of a Pinduoduo shop behind the POP gateway. See `app.py` for the wire."""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .app import PddEmulator

__all__ = ["PddEmulator", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve a shop in the foreground with demo goods; the ready line has its credentials."""
    emulator = PddEmulator(**settings)
    emulator.seed_items([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    serve_forever(emulator.app, port=port, platform="pdd", credentials=emulator.credentials)
