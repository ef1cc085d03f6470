"""Run a platform emulator on its own."""

from __future__ import annotations

from typing import Annotated

import typer

from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Run a platform emulator on its own.")


@app.command("serve")
def sandbox_serve(
    platform: Annotated[str, typer.Argument(help="shopify, qimen or supplier")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9000,
) -> None:
    """Run one emulator in the foreground, for any client to talk to."""
    if platform == "shopify":
        from orderhub.sandbox.shopify import run as run_shopify

        run_shopify(port)
    elif platform == "qimen":
        from orderhub.sandbox.qimen import run as run_qimen

        run_qimen(port)
    elif platform == "supplier":
        from orderhub.sandbox.supplier import run as run_supplier

        run_supplier(port)
    else:
        raise OrderhubError(f"no emulator for {platform!r}; choose shopify, qimen or supplier")
