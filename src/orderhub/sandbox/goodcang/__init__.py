"""Emulator of a 谷仓 (GoodCang) overseas warehouse account, REST V1.

See `emulator.py` for the documented sources, the wire shape and the settings that stand
for unconfirmed facts.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import GoodCangEmulator, create_app

__all__ = ["GoodCangEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground with demo products (SKU-001…005, 100 each);
    the ready line names every setting a client needs except the address."""
    emulator = GoodCangEmulator(**settings)
    emulator.seed_products([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    credentials = {k: v for k, v in emulator.settings("").items() if k != "base_url"}
    serve_forever(emulator.app, port=port, platform="goodcang", credentials=credentials)
