"""Emulator of a 京东云仓 (ECLP) department behind the JOS gateway.

See `emulator.py` for the documented sources, the wire shape and the settings that stand
for unconfirmed facts.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import EclpEmulator, create_app

__all__ = ["EclpEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground with demo goods (SKU-001…005, 100 each);
    the ready line names every setting a client needs except the address."""
    emulator = EclpEmulator(**settings)
    emulator.seed_goods([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    credentials = {k: v for k, v in emulator.settings("").items() if k != "base_url"}
    serve_forever(emulator.app, port=port, platform="eclp", credentials=credentials)
