"""Emulator of a Kingdee 金蝶云星辰 tenant behind its V2 open API. See `app.py` for the wire."""

from __future__ import annotations

from orderhub.sandbox.server import serve_forever

from .app import JdyEmulator

__all__ = ["JdyEmulator", "run"]


def run(port: int) -> None:
    """Serve a tenant in the foreground with demo base data; the ready line has its credentials."""
    emulator = JdyEmulator()
    emulator.seed(materials=[f"SKU-{n:03d}" for n in range(1, 6)], customers=["SHOP1"])
    serve_forever(emulator.app, port=port, platform="jdy", credentials=emulator.credentials)
