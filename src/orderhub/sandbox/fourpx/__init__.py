"""Emulator of a 4PX 递四方 overseas warehouse account (菜鸟 GFN shares the format).

See `emulator.py` for the documented sources, the wire shape and the settings that stand
for unconfirmed facts.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import FourpxEmulator, create_app, sign

__all__ = ["FourpxEmulator", "create_app", "run", "sign"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground with demo SKUs (SKU-001…005, 100 each); the
    ready line names every setting a client needs except the address."""
    emulator = FourpxEmulator(**settings)
    emulator.seed_skus([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    credentials = {k: v for k, v in emulator.settings("").items() if k != "base_url"}
    serve_forever(emulator.app, port=port, platform="fourpx", credentials=credentials)
