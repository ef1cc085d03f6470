"""Looking at orders."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json, seller_zone
from orderhub.cli._format import money, when
from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import Order

app = typer.Typer(no_args_is_help=True, help="Look at orders and act on one.")


def _four_digits(value: str | None) -> str | None:
    if value is not None and not (len(value) == 4 and value.isascii() and value.isdigit()):
        raise typer.BadParameter("give the last four digits of the phone", param_hint="--phone")
    return value


@app.command("list")
def orders_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    shop: Annotated[str | None, typer.Option(help="Only this shop.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    search: Annotated[
        str | None,
        typer.Option(help="Start of the hub id, the platform's order id or the order number."),
    ] = None,
    tracking: Annotated[str | None, typer.Option(help="The order of this parcel.")] = None,
    sku: Annotated[
        str | None, typer.Option(help="Orders of this product: our SKU or the shop's code.")
    ] = None,
    placed_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Placed on or after this day."),
    ] = None,
    placed_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Placed on or before this day."),
    ] = None,
    phone: Annotated[
        str | None,
        typer.Option(help="Orders whose receiver's phone ends in these four digits."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Newest orders first; money to the cent, days and times in ORDERHUB_TIMEZONE."""
    from orderhub.services.queries import order_list

    zone = seller_zone()
    hub = open_hub()
    rows = order_list(
        hub,
        status=status,
        shop=shop,
        limit=limit,
        search=search,
        tracking_no=tracking,
        sku=sku,
        placed_from=placed_from.date() if placed_from else None,
        placed_to=placed_to.date() if placed_to else None,
        phone_last4=_four_digits(phone),
    )
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "shop", "order", "status", "node", "total", "placed")
    table.columns[0].overflow = "fold"
    table.columns[2].overflow = "fold"
    for r in rows:
        table.add_row(
            r.id,
            r.shop,
            r.order_no or r.channel_order_id,
            r.status,
            r.node or "",
            money(r.grand_total, r.currency),
            when(r.placed_at, zone),
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
            from orderhub.services.accounts import principal_for_token
            from orderhub.services.reveal import reveal_order

            who = principal_for_token(hub, token)
            order: Order = reveal_order(hub, who, order_id, where="orderhub orders show")
        else:
            order = order_view(hub, order_id, reveal=False)
    finally:
        hub.close()
    if json_out:
        print_json(order.model_dump(mode="json"))
        return
    zone = seller_zone()
    r = order.receiver
    number = order.order_no or f"#{order.channel_order_id}"
    out.print(f"{order.id}  {order.shop} {number}  {order.status}", style="bold")
    out.print(
        f"placed {when(order.placed_at, zone)}, total "
        f"{money(order.totals.grand_total, order.currency)}"
        + (f", ship by {when(order.ship_by, zone)}" if order.ship_by else "")
    )
    out.print(f"receiver: {r.name} {r.phone}, {r.address1} {r.city} {r.province} {r.country}")
    for line in order.lines:
        out.print(
            f"  {line.sku or line.channel_sku} × {line.quantity} @ "
            f"{money(line.unit_price, order.currency)} → {line.node or '-'}"
        )
    for f in order.fulfillments:
        out.print(f"shipped: {f.carrier} {f.tracking_no} (confirmed: {f.confirmed_to_channel})")
    for e in order.exceptions:
        out.print(f"exception [{'resolved' if e.resolved else 'open'}] {e.code}: {e.message}")
    waits = [t for t in order.trace if t.stage == "wait"]
    if waits and order.status == "reserved":
        out.print(f"waiting: {waits[-1].message}")
    table = Table("at", "stage", "status", "ms", "message")
    for t in order.trace:
        table.add_row(
            when(t.at, zone, seconds=True),
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

    zone = seller_zone()
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
            when(r.ship_by, zone),
            r.state,
            f"{r.hours_left:+.1f}",
        )
    out.print(table)
    out.print(f"{len(rows)} order(s) late or at risk")


Reason = Annotated[str, typer.Option(help="Why, in a few words: kept with the order.")]


def _act(order_id: str, doing: str, reason: str, **more: Any) -> None:
    """Run one order action as the person at the command line and say what happened."""
    from orderhub.services import order_actions
    from orderhub.services.audit import cli_principal

    hub = open_hub()
    try:
        action = getattr(order_actions, doing)
        acted = action(hub, order_id, reason=reason, who=cli_principal(), **more)
    finally:
        hub.close()
    out.print(f"{acted.order_id}: {acted.status} ({acted.outcome})")


@app.command("cancel")
def orders_cancel(order_id: Annotated[str, typer.Argument()], reason: Reason) -> None:
    """Cancel an order that has not shipped: taken back, or stopped at its node; its
    stock comes back and the shop is told where its platform allows."""
    _act(order_id, "cancel_order", reason)


@app.command("hold")
def orders_hold(order_id: Annotated[str, typer.Argument()], reason: Reason) -> None:
    """Hold an order before its node has it; it waits for `orders release`."""
    _act(order_id, "hold_order", reason)


@app.command("release")
def orders_release(order_id: Annotated[str, typer.Argument()], reason: Reason) -> None:
    """Let a held order go: it is routed again and sent on."""
    _act(order_id, "release_order", reason)


@app.command("route")
def orders_route(
    order_id: Annotated[str, typer.Argument()],
    node: Annotated[str, typer.Argument(help="One of the shop's warehouses or suppliers.")],
    reason: Reason,
) -> None:
    """Send the order from another node; one that already has it is asked to stop it."""
    _act(order_id, "send_from", reason, node=node)


@app.command("address")
def orders_address(
    order_id: Annotated[str, typer.Argument()],
    reason: Reason,
    set_: Annotated[
        list[str],
        typer.Option("--set", help="FIELD=VALUE: name, phone, province, city, district, ..."),
    ],
) -> None:
    """Correct where an order goes before its node has it."""
    fields = {}
    for item in set_:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter("give FIELD=VALUE", param_hint="--set")
        fields[name.strip().removeprefix("receiver.")] = value
    _act(order_id, "change_address", reason, fields=fields)
