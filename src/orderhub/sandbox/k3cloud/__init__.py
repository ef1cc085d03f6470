"""Emulator of a Kingdee K/3 Cloud 账套 behind its WebAPI. See `app.py` for the wire."""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .app import K3CloudEmulator

__all__ = ["K3CloudEmulator", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve a 账套 in the foreground with demo base data; the ready line has its credentials."""
    emulator = K3CloudEmulator(**settings)
    emulator.seed(
        materials=[f"SKU-{n:03d}" for n in range(1, 6)],
        customers=["SHOP1"],
        suppliers=["SUP1"],
    )
    serve_forever(emulator.app, port=port, platform="k3cloud", credentials=emulator.credentials)
