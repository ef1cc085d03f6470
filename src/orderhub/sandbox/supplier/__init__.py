"""Emulator of a drop-ship supplier that implements the orderhub supplier API.

See `app.py` for the wire shape and the control endpoints.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .app import SupplierEmulator, create_app

__all__ = ["SupplierEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground; credentials default to demo values."""
    settings.setdefault("supplier_id", "sandbox-supplier")
    settings.setdefault("secret", "sandbox-supplier-secret")
    emulator = SupplierEmulator(**settings)
    credentials = {"supplier_id": settings["supplier_id"], "secret": settings["secret"]}
    serve_forever(emulator.app, port=port, platform="supplier_api", credentials=credentials)
