"""Emulator of a JD (京东) POP shop behind the JOS open API.

See `emulator.py` for the documented sources, the wire shape, the error codes and the
settings that stand for unconfirmed facts.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import DECRYPT_METHOD, SKU_LIST_METHOD, JdEmulator, create_app

__all__ = ["DECRYPT_METHOD", "SKU_LIST_METHOD", "JdEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground with demo SKUs; credentials default to demo
    values."""
    emulator = JdEmulator(**settings)
    emulator.seed_items([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    credentials = {
        "app_key": emulator.app_key,
        "app_secret": emulator.app_secret,
        "access_token": emulator.access_token,
    }
    serve_forever(emulator.app, port=port, platform="jd", credentials=credentials)
