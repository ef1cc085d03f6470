"""Emulator of a 快递100 account: subscriptions and signed callbacks. See `app.py`."""

from __future__ import annotations

from orderhub.sandbox.server import serve_forever

from .app import Kuaidi100Emulator

__all__ = ["Kuaidi100Emulator", "run"]


def run(port: int) -> None:
    """Serve an account in the foreground; the ready line has its key and customer id."""
    emulator = Kuaidi100Emulator()
    serve_forever(emulator.app, port=port, platform="kuaidi100", credentials=emulator.credentials)
