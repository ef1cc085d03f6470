"""Emulator of a 17TRACK account (API v2.2): registrations and signed pushes. See `app.py`."""

from __future__ import annotations

from orderhub.sandbox.server import serve_forever

from .app import Track17Emulator

__all__ = ["Track17Emulator", "run"]


def run(port: int) -> None:
    """Serve an account in the foreground; the ready line has its API key. Its webhook
    address is set through `PUT /_sandbox/webhook`."""
    emulator = Track17Emulator()
    serve_forever(emulator.app, port=port, platform="17track", credentials=emulator.credentials)
