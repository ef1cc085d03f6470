"""Returns, refunds and exchanges (售后)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Returns, refunds and exchanges (售后).")


@app.command("list")
def returns_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    order: Annotated[str | None, typer.Option(help="Only returns of this order id.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Returns, newest first."""
    from orderhub.services.returns import list_returns, return_data

    hub = open_hub()
    rows = list_returns(hub, status=status, order_id=order)
    hub.close()
    if json_out:
        print_json([return_data(r) for r in rows])
        return
    table = Table("id", "order", "node", "status", "refund", "units", "created")
    for r in rows:
        table.add_row(
            r.id,
            r.order_id,
            r.node,
            r.status,
            r.refund_status,
            str(sum(item.quantity for item in r.lines)),
            "" if r.created_at is None else r.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@app.command("show")
def returns_show(
    return_id: Annotated[str, typer.Argument(help="Return id (the code the node knows).")],
    json_out: JsonFlag = False,
) -> None:
    """One return: what was announced, what arrived, and how the stock was booked."""
    from orderhub.services.returns import get_return, return_data

    hub = open_hub()
    record = get_return(hub, return_id)
    hub.close()
    if json_out:
        print_json(return_data(record))
        return
    out.print(
        f"{record.id}  order {record.order_id}  {record.status}  at {record.node} "
        f"(left with {record.dispatch_id})",
        style="bold",
    )
    out.print(f"refund: {record.channel_refund_id or '-'} ({record.refund_status})")
    for item in record.lines:
        out.print(f"  line {item.line_id}: {item.sku} × {item.quantity} {item.reason}".rstrip())
    for got in record.received:
        out.print(f"  received {got['sku']} × {got['quantity']} ({got['quality']})")
    if record.restock:
        out.print(f"restocked: {record.restock.get('restocked', {})}")
        out.print(f"written off: {record.restock.get('written_off', {})}")
    if record.exchange_order_id:
        out.print(f"exchanged for order {record.exchange_order_id}")


@app.command("exchange")
def returns_exchange(
    order_id: Annotated[str, typer.Argument(help="Order id of the goods coming back.")],
    line: Annotated[
        list[str], typer.Option("--line", help="LINE_ID:QTY to take back (repeatable).")
    ],
    sku: Annotated[str, typer.Option("--sku", help="The SKU to send instead.")],
    json_out: JsonFlag = False,
) -> None:
    """Take lines back and send another SKU as a new, free order to the same receiver."""
    from orderhub.services.returns import create_exchange

    lines = []
    for value in line:
        line_id, sep, qty = value.rpartition(":")
        if not sep or not line_id or not qty.isdigit():
            raise OrderhubError(f"--line {value!r} is not LINE_ID:QTY")
        lines.append((line_id, int(qty)))
    hub = open_hub()
    result = create_exchange(hub, order_id, lines, sku)
    hub.close()
    if json_out:
        print_json(
            {
                "return_ids": result.return_ids,
                "order_id": result.order_id,
                "channel_order_id": result.channel_order_id,
                "status": result.status,
            }
        )
        return
    out.print(f"return(s) {', '.join(result.return_ids)} opened")
    out.print(f"new order {result.order_id} (#{result.channel_order_id}) is {result.status}")
