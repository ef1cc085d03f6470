"""Emulator of an Amazon seller account behind the Selling Partner API (Orders v0,
Tokens 2021-03-01, Listings Items 2021-08-01) and Login with Amazon.

See `emulator.py` for the documented sources, the quotas, and the choices made where the
documentation is silent.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import MARKETPLACE_US, AmazonEmulator, create_app
from .quota import DOCUMENTED

__all__ = ["DOCUMENTED", "MARKETPLACE_US", "AmazonEmulator", "create_app", "run"]


def run(port: int, **settings: Any) -> None:
    """Serve an emulator in the foreground with demo listings; its ready line names the
    LWA client, the refresh token, the seller and the marketplace."""
    emulator = AmazonEmulator(**settings)
    emulator.seed_items([{"sku": f"SKU-{n:03d}", "stock": 100} for n in range(1, 6)])
    serve_forever(emulator.app, port=port, platform="amazon", credentials=emulator.credentials)
