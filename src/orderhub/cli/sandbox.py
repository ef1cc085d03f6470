"""Run a platform emulator on its own."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Run a platform emulator on its own.")


EMULATORS = {
    "shopify": "orderhub.sandbox.shopify",
    "woocommerce": "orderhub.sandbox.woocommerce",
    "taobao": "orderhub.sandbox.taobao",
    "douyin": "orderhub.sandbox.douyin",
    "pdd": "orderhub.sandbox.pdd",
    "jd": "orderhub.sandbox.jd",
    "amazon": "orderhub.sandbox.amazon",
    "qimen": "orderhub.sandbox.qimen",
    "eclp": "orderhub.sandbox.eclp",
    "fourpx": "orderhub.sandbox.fourpx",
    "goodcang": "orderhub.sandbox.goodcang",
    "supplier": "orderhub.sandbox.supplier",
    "k3cloud": "orderhub.sandbox.k3cloud",
    "jdy": "orderhub.sandbox.jdy",
    "kuaidi100": "orderhub.sandbox.kuaidi100",
    "17track": "orderhub.sandbox.track17",
}


@app.command("serve")
def sandbox_serve(
    platform: Annotated[str, typer.Argument(help=", ".join(EMULATORS))],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9000,
) -> None:
    """Run one emulator in the foreground, for any client to talk to."""
    if platform not in EMULATORS:
        raise OrderhubError(f"no emulator for {platform!r}; choose {', '.join(EMULATORS)}")
    importlib.import_module(EMULATORS[platform]).run(port)
