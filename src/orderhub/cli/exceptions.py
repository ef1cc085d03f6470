"""Orders and payloads held for a person."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, pairs, print_json

app = typer.Typer(no_args_is_help=True, help="Orders and payloads held for a person.")


@app.command("list")
def exceptions_list(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    code: Annotated[str | None, typer.Option(help="Only this code.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Exceptions, newest first."""
    from orderhub.services.queries import exception_list

    hub = open_hub()
    rows = exception_list(hub, status=None if status == "all" else status, code=code)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "stage", "code", "order", "message")
    for r in rows:
        table.add_row(r.id, r.stage, r.code, r.order_id or r.inbox_id or "", r.message)
    out.print(table)


@app.command("show")
def exceptions_show(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
    json_out: JsonFlag = False,
) -> None:
    """One exception: why, about what, and how to act on it."""
    from orderhub.services.queries import exception_view

    hub = open_hub()
    view = exception_view(hub, exception_id)
    hub.close()
    if json_out:
        print_json(view)
        return
    for key, value in view.items():
        if key == "actions":
            value = ", ".join(value) + f"  (orderhub exceptions resolve {exception_id} --action …)"
        out.print(f"{key}: {value}")


@app.command("replay")
def exceptions_replay(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
) -> None:
    """After fixing the cause: replay the order, payload or job the exception stopped."""
    from orderhub.services.exceptions import replay_exception

    hub = open_hub()
    result = replay_exception(hub, exception_id)
    hub.close()
    out.print(
        f"{result.outcome}"
        + (f"; order {result.order_id} is {result.status}" if result.status else "")
    )


@app.command("resolve")
def exceptions_resolve(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
    action: Annotated[str, typer.Option(help="fix_address, map_sku, release, retry or cancel.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="fix_address: receiver.FIELD=VALUE (repeatable)."),
    ] = None,
    sku: Annotated[
        list[str] | None,
        typer.Option(help="map_sku: CHANNEL_SKU=OUR_SKU (repeatable)."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why, for the order's trace.")] = "",
) -> None:
    """Act on an exception (see `exceptions show` for the allowed actions), then replay."""
    from orderhub.services.exceptions import resolve_exception

    receiver = pairs("--set", set_ or [])
    skus = pairs("--sku", sku or [])
    hub = open_hub()
    try:
        result = resolve_exception(
            hub, exception_id, action, receiver=receiver, skus=skus, note=note
        )
    finally:
        hub.close()
    out.print(
        f"{result.outcome}"
        + (f"; order {result.order_id} is {result.status}" if result.status else "")
    )
