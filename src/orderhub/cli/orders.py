"""Looking at orders."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import Order

app = typer.Typer(no_args_is_help=True, help="Look at orders.")


@app.command("list")
def orders_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    shop: Annotated[str | None, typer.Option(help="Only this shop.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    json_out: JsonFlag = False,
) -> None:
    """Newest orders first."""
    from orderhub.services.queries import order_list

    hub = open_hub()
    rows = order_list(hub, status=status, shop=shop, limit=limit)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "shop", "channel id", "status", "node", "total", "placed")
    for r in rows:
        table.add_row(
            r.id,
            r.shop,
            r.channel_order_id,
            r.status,
            r.node or "",
            f"{r.grand_total} {r.currency}",
            r.placed_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="Order id.")],
    reveal: Annotated[
        bool,
        typer.Option(help="Show personal data in clear: needs ORDERHUB_TOKEN, a personal token."),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """One order with its exceptions and trace; personal data masked unless --reveal,
    which needs the personal token (ORDERHUB_TOKEN) of someone allowed to see it."""
    from orderhub.services.queries import order_view

    token = os.environ.get("ORDERHUB_TOKEN", "")
    if reveal and not token:
        raise OrderhubError(
            "--reveal needs ORDERHUB_TOKEN: the personal token of someone allowed to see "
            "personal data (orderhub tokens create NAME)"
        )
    hub = open_hub()
    try:
        if reveal:
            from orderhub.domain.access import Permission, require
            from orderhub.services.accounts import principal_for_token
            from orderhub.services.audit import record_change

            who = principal_for_token(hub, token)
            require(who, Permission.PII_REVEAL)
            order: Order = order_view(hub, order_id, reveal=True)
            if not who.sees_shop(order.shop):
                raise OrderhubError(f"{who.name} may not see orders of shop {order.shop}")
            record_change(
                hub, who, "pii.reveal", f"order:{order.id}", detail="orderhub orders show"
            )
        else:
            order = order_view(hub, order_id, reveal=False)
    finally:
        hub.close()
    if json_out:
        print_json(order.model_dump(mode="json"))
        return
    r = order.receiver
    out.print(f"{order.id}  {order.shop} #{order.channel_order_id}  {order.status}", style="bold")
    out.print(f"receiver: {r.name} {r.phone}, {r.address1} {r.city} {r.province} {r.country}")
    for line in order.lines:
        out.print(
            f"  {line.sku or line.channel_sku} × {line.quantity} @ {line.unit_price}"
            f" → {line.node or '-'}"
        )
    for f in order.fulfillments:
        out.print(f"shipped: {f.carrier} {f.tracking_no} (confirmed: {f.confirmed_to_channel})")
    for e in order.exceptions:
        out.print(f"exception [{'resolved' if e.resolved else 'open'}] {e.code}: {e.message}")
    table = Table("at", "stage", "status", "ms", "message")
    for t in order.trace:
        table.add_row(
            t.at.isoformat(timespec="milliseconds"),
            t.stage,
            t.status,
            "" if t.latency_ms is None else f"{t.latency_ms:.1f}",
            t.message,
        )
    out.print(table)


@app.command("late")
def orders_late(json_out: JsonFlag = False) -> None:
    """Open orders at risk of missing their ship-by time, or past it; most urgent first."""
    from orderhub.services.sla import late_orders

    hub = open_hub()
    rows = late_orders(hub)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "shop", "channel id", "status", "node", "ship by", "state", "h left")
    for r in rows:
        table.add_row(
            r.order_id,
            r.shop,
            r.channel_order_id,
            r.status,
            r.node or "",
            r.ship_by.isoformat(timespec="minutes"),
            r.state,
            f"{r.hours_left:+.1f}",
        )
    out.print(table)
    out.print(f"{len(rows)} order(s) late or at risk")
