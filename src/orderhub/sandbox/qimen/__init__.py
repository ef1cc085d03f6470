"""Emulator of a WMS behind the Qimen (奇门) standard ERP↔WMS interface.

See `app.py` for the documented sources, the wire shape and the failure codes.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .app import QimenEmulator, create_app

__all__ = ["QimenEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground; credentials default to demo values."""
    settings.setdefault("app_key", "sandbox-app-key")
    settings.setdefault("app_secret", "sandbox-app-secret")
    settings.setdefault("customer_id", "sandbox-customer")
    emulator = QimenEmulator(**settings)
    credentials = {
        "app_key": settings["app_key"],
        "app_secret": settings["app_secret"],
        "customer_id": settings["customer_id"],
        "warehouse_code": emulator.state.warehouse_code,
        "gateway": "/router/qimen/service",
    }
    serve_forever(emulator.app, port=port, platform="qimen", credentials=credentials)
