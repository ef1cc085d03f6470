"""The `orderhub` command line: thin commands over the services.

Every failure the operator can fix prints one plain sentence and exits 2; no traceback.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orderhub.domain.errors import InvalidOrder, OrderhubError
from orderhub.domain.order import Order

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="orderhub: every shop, every warehouse, one hub.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
sync_app = typer.Typer(no_args_is_help=True, help="Pull orders from shops by hand.")
orders_app = typer.Typer(no_args_is_help=True, help="Look at orders.")
exceptions_app = typer.Typer(no_args_is_help=True, help="Orders and payloads held for a person.")
jobs_app = typer.Typer(no_args_is_help=True, help="Outbound calls queued, retried or dead.")
schema_app = typer.Typer(no_args_is_help=True, help="Published JSON Schemas.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Run a platform emulator on its own.")
app.add_typer(db_app, name="db")
app.add_typer(sync_app, name="sync")
app.add_typer(orders_app, name="orders")
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(jobs_app, name="jobs")
app.add_typer(schema_app, name="schema")
app.add_typer(sandbox_app, name="sandbox")
stock_app = typer.Typer(no_args_is_help=True, help="Stock levels, ledger, counts and alerts.")
app.add_typer(stock_app, name="stock")

# Shop data (titles, addresses, SKUs) is printed as is: no rich markup, and error
# sentences are never wrapped, so each stays one line.
out = Console(markup=False)
err = Console(stderr=True, markup=False, soft_wrap=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _hub(*, migrate: bool = True) -> Any:
    from orderhub.bootstrap import build_hub

    return build_hub(migrate=migrate)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="How many orders to place.")] = 200,
    rate: Annotated[float, typer.Option(help="Orders placed per second.")] = 20.0,
    shops: Annotated[int, typer.Option(help="How many emulated shops sell the stock.")] = 1,
    stock: Annotated[int, typer.Option(help="Opening stock of each SKU.")] = 1000,
    skus: Annotated[int, typer.Option(help="How many SKUs the shops sell.")] = 1,
    exit_when_done: Annotated[bool, typer.Option(help="Stop once every order is settled.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Run the hub with emulated shops and a warehouse, and watch orders flow."""
    from orderhub.demo import DemoOptions, run_demo

    summary = run_demo(
        DemoOptions(
            orders=orders,
            rate=rate,
            shops=shops,
            stock=stock,
            skus=skus,
            exit_when_done=exit_when_done,
            quiet=json_out,
        )
    )
    if json_out:
        _print_json(summary)
    else:
        out.print_json(data=summary)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run a worker in this process too.")] = True,
) -> None:
    """HTTP API, webhooks and (by default) an in-process worker."""
    import uvicorn

    from orderhub.api.app import create_app
    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker

    hub = _hub()
    running = Worker(hub) if worker else None
    scheduler = Scheduler(hub) if worker else None
    if running and scheduler:
        running.start()
        scheduler.start()
    try:
        uvicorn.run(create_app(hub), host=host, port=port, log_level="warning")
    finally:
        if running and scheduler:
            scheduler.stop()
            running.stop()
        hub.close()


@app.command("worker")
def worker_command(
    threads: Annotated[int | None, typer.Option(help="Worker threads.")] = None,
) -> None:
    """Run outbox jobs until interrupted; start as many as you like on PostgreSQL."""
    import signal
    import threading

    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker

    hub = _hub()
    running = Worker(hub, threads=threads)
    scheduler = Scheduler(hub)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    running.start()
    scheduler.start()
    err.print(f"worker {running.name} running with {running.threads} threads")
    stop.wait()
    scheduler.stop()
    running.stop()
    hub.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    hub = _hub(migrate=True)
    hub.close()
    out.print("database is up to date")


@app.command("map")
def map_command(
    file: Annotated[Path, typer.Argument(help="A raw platform order (JSON).")],
    platform: Annotated[str, typer.Option(help="The platform that sent it.")],
    shop: Annotated[str, typer.Option(help="Shop code to put on the order.")] = "preview",
) -> None:
    """Show the canonical order a raw payload maps to, or every problem with it."""
    from orderhub.services.preview import preview_mapping

    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OrderhubError(f"{file} does not exist") from exc
    except ValueError as exc:
        raise OrderhubError(f"{file} is not valid JSON: {exc}") from exc
    order = preview_mapping(platform, raw, shop=shop)
    _print_json(order.model_dump(mode="json", exclude={"trace", "exceptions"}))


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="JSON file: one raw order or a list of them.")],
    shop: Annotated[str, typer.Option(help="The shop the orders belong to.")],
) -> None:
    """Ingest raw platform payloads from a file, as if the shop had sent them."""
    from orderhub.jobs.worker import Worker
    from orderhub.services.ingest import receive_payload

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError) as exc:
        raise OrderhubError(f"cannot read {file}: {exc}") from exc
    payloads = data if isinstance(data, list) else [data]
    hub = _hub()
    new = sum(receive_payload(hub, shop, p, source="import").new for p in payloads)
    Worker(hub, threads=1).run_until_idle(timeout=120)
    hub.close()
    out.print(f"{len(payloads)} payload(s) read, {new} new")


@sync_app.command("pull")
def sync_pull(
    shop: Annotated[str, typer.Option(help="The shop to pull from.")],
    since: Annotated[str | None, typer.Option(help="ISO-8601 time; default: last pull.")] = None,
) -> None:
    """Pull orders updated since the last pull (or --since) and process them."""
    from orderhub.jobs.worker import Worker
    from orderhub.services.sync import pull_orders

    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError as exc:
            raise OrderhubError(f"--since {since!r} is not an ISO-8601 time") from exc
    hub = _hub()
    result = pull_orders(hub, shop, since=moment)
    Worker(hub, threads=1).run_until_idle(timeout=120)
    hub.close()
    out.print(f"{result.fetched} order(s) fetched, {result.new} new; cursor {result.cursor}")


@orders_app.command("list")
def orders_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    shop: Annotated[str | None, typer.Option(help="Only this shop.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    json_out: JsonFlag = False,
) -> None:
    """Newest orders first."""
    from orderhub.services.queries import order_list

    hub = _hub()
    rows = order_list(hub, status=status, shop=shop, limit=limit)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
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


@orders_app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="Order id.")],
    reveal: Annotated[bool, typer.Option(help="Show personal data in clear.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """One order with its exceptions and trace; personal data masked unless --reveal."""
    from orderhub.services.queries import order_view

    if reveal and not os.environ.get("ORDERHUB_ADMIN_TOKEN"):
        raise OrderhubError("--reveal needs ORDERHUB_ADMIN_TOKEN to be set (admins only)")
    hub = _hub()
    order: Order = order_view(hub, order_id, reveal=reveal)
    hub.close()
    if json_out:
        _print_json(order.model_dump(mode="json"))
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


@exceptions_app.command("list")
def exceptions_list(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    code: Annotated[str | None, typer.Option(help="Only this code.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Exceptions, newest first."""
    from orderhub.services.queries import exception_list

    hub = _hub()
    rows = exception_list(hub, status=None if status == "all" else status, code=code)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "stage", "code", "order", "message")
    for r in rows:
        table.add_row(r.id, r.stage, r.code, r.order_id or r.inbox_id or "", r.message)
    out.print(table)


@exceptions_app.command("show")
def exceptions_show(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
    json_out: JsonFlag = False,
) -> None:
    """One exception: why, about what, and how to act on it."""
    from orderhub.services.queries import exception_view

    hub = _hub()
    view = exception_view(hub, exception_id)
    hub.close()
    if json_out:
        _print_json(view)
        return
    for key, value in view.items():
        if key == "actions":
            value = ", ".join(value) + f"  (orderhub exceptions resolve {exception_id} --action …)"
        out.print(f"{key}: {value}")


@exceptions_app.command("replay")
def exceptions_replay(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
) -> None:
    """After fixing the cause: replay the order, payload or job the exception stopped."""
    from orderhub.services.exceptions import replay_exception

    hub = _hub()
    result = replay_exception(hub, exception_id)
    hub.close()
    out.print(
        f"{result.outcome}"
        + (f"; order {result.order_id} is {result.status}" if result.status else "")
    )


def _pairs(option: str, values: list[str]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OrderhubError(f"{option} {item!r} is not NAME=VALUE")
        pairs[key.strip()] = value
    return pairs


@exceptions_app.command("resolve")
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

    receiver = _pairs("--set", set_ or [])
    skus = _pairs("--sku", sku or [])
    hub = _hub()
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


@orders_app.command("late")
def orders_late(json_out: JsonFlag = False) -> None:
    """Open orders at risk of missing their ship-by time, or past it; most urgent first."""
    from orderhub.services.sla import late_orders

    hub = _hub()
    rows = late_orders(hub)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
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


alerts_app = typer.Typer(no_args_is_help=True, help="Alerts raised and digests sent.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("list")
def alerts_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    unsent: Annotated[bool, typer.Option(help="Only those not sent yet.")] = False,
    limit: Annotated[int, typer.Option(help="How many.")] = 100,
    json_out: JsonFlag = False,
) -> None:
    """Alerts, most recently raised first, with how often each arose."""
    from orderhub.services.alerts import alert_list

    hub = _hub()
    rows = alert_list(hub, kind=kind, unsent=unsent, limit=limit)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
        return
    table = Table("kind", "severity", "count", "first", "last", "sent", "message")
    for r in rows:
        table.add_row(
            r.kind,
            r.severity,
            str(r.count),
            r.first_at.isoformat(timespec="seconds"),
            r.last_at.isoformat(timespec="seconds"),
            r.sent_at.isoformat(timespec="seconds") if r.sent_at else "",
            r.message,
        )
    out.print(table)


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="pending, running, done or dead.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Outbox jobs, newest first."""
    from orderhub.services.queries import job_list

    hub = _hub()
    rows = job_list(hub, status=status)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "kind", "status", "attempts", "order", "last error")
    for r in rows:
        table.add_row(
            str(r.id),
            r.kind,
            r.status,
            f"{r.attempts}/{r.max_attempts}",
            r.order_id or "",
            r.last_error or "",
        )
    out.print(table)


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[int, typer.Argument(help="A dead job's id.")]) -> None:
    """Queue a dead-lettered job again with fresh attempts."""
    from orderhub.services.queries import retry_job

    hub = _hub()
    ok = retry_job(hub, job_id)
    hub.close()
    if not ok:
        raise OrderhubError(f"job {job_id} is not dead-lettered")
    out.print(f"job {job_id} queued again")


@stock_app.command("show")
def stock_show(
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    node: Annotated[str | None, typer.Option(help="Only this node.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Stock per node and SKU, and what each listing shows on its shop."""
    from orderhub.services.queries import stock_view

    hub = _hub()
    view = stock_view(hub, sku=sku, node=node)
    hub.close()
    if json_out:
        _print_json(view)
        return
    table = Table("node", "sku", "on hand", "reserved", "available")
    for row in view["levels"]:
        table.add_row(
            row["node"],
            row["sku"],
            str(row["on_hand"]),
            str(row["reserved"]),
            str(row["available"]),
        )
    out.print(table)
    listings = Table("listing", "shop", "channel sku", "sku", "shows", "last pushed")
    for row in view["listings"]:
        listings.add_row(
            str(row["listing_id"]),
            row["shop"],
            row["channel_sku"],
            row["sku"],
            str(row["available_to_sell"]),
            str(row["last_pushed"]),
        )
    out.print(listings)


# A negative delta ("-3") is an argument, not an unknown option.
@stock_app.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(
    node: Annotated[str, typer.Argument(help="Node code.")],
    sku: Annotated[str, typer.Argument(help="SKU.")],
    delta: Annotated[int, typer.Argument(help="Units to add (negative to remove).")],
    reason: Annotated[str, typer.Option(help="Why, for the ledger.")],
) -> None:
    """Change on-hand stock by hand; the ledger keeps the reason."""
    from orderhub.services.inventory import adjust_stock

    hub = _hub()
    adjust_stock(hub, node, sku, delta, reason=reason)
    hub.close()
    out.print(f"{sku} at {node}: {delta:+d} ({reason})")


@stock_app.command("import")
def stock_import(
    file: Annotated[Path, typer.Argument(help="Stocktake: CSV or Excel with sku, quantity.")],
    node: Annotated[str, typer.Option(help="The node that was counted.")],
    apply: Annotated[bool, typer.Option(help="Apply; without it only the preview.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Preview (or with --apply, apply) a stocktake: the differences from the hub's stock."""
    from orderhub.services.inventory import apply_stocktake, read_counts, stocktake_preview

    counts = read_counts(file)
    hub = _hub()
    if apply:
        differences = apply_stocktake(hub, node, counts, reason=f"stocktake {file.name}")
    else:
        differences = stocktake_preview(hub, node, counts)
    hub.close()
    rows = [
        {"node": d.node, "sku": d.sku, "hub": d.hub, "counted": d.counted, "delta": d.delta}
        for d in differences
    ]
    if json_out:
        _print_json({"applied": apply, "differences": rows})
        return
    table = Table("sku", "hub", "counted", "difference")
    for row in rows:
        table.add_row(str(row["sku"]), str(row["hub"]), str(row["counted"]), f"{row['delta']:+d}")
    out.print(table)
    out.print(
        f"{len(rows)} difference(s) " + ("applied" if apply else "(preview; --apply to apply)")
    )


@stock_app.command("verify")
def stock_verify() -> None:
    """Prove every stock level equals the sum of its ledger; exits 1 if one does not."""
    from orderhub.services.queries import ledger_mismatches

    hub = _hub()
    bad = ledger_mismatches(hub)
    hub.close()
    if bad:
        for node, sku, on_hand, ledger_on_hand, reserved, ledger_reserved in bad:
            err.print(
                f"{sku} at {node}: on hand {on_hand} vs ledger {ledger_on_hand}, "
                f"reserved {reserved} vs ledger {ledger_reserved}"
            )
        raise SystemExit(1)
    out.print("every stock level equals its ledger")


@stock_app.command("reconcile")
def stock_reconcile(
    node: Annotated[str, typer.Argument(help="Node code.")],
    apply: Annotated[bool, typer.Option(help="Correct the hub; without it only report.")] = False,
) -> None:
    """Compare the hub's stock with the warehouse's own count (inventory.query)."""
    from orderhub.services.inventory import reconcile_node

    hub = _hub()
    differences = reconcile_node(hub, node, apply=apply)
    hub.close()
    for d in differences:
        out.print(f"{d.sku}: hub {d.hub}, warehouse {d.counted} ({d.delta:+d})")
    out.print(f"{len(differences)} difference(s)" + (" corrected" if apply else ""))


@stock_app.command("alerts")
def stock_alerts(json_out: JsonFlag = False) -> None:
    """Low stock and how much to reorder, from recent sales."""
    from dataclasses import asdict

    from orderhub.services.inventory import replenishment

    hub = _hub()
    rows = replenishment(hub)
    hub.close()
    if json_out:
        _print_json([asdict(r) for r in rows])
        return
    table = Table("node", "sku", "available", "sold/day", "days of cover", "reorder", "low")
    for r in rows:
        table.add_row(
            r.node,
            r.sku,
            str(r.available),
            str(r.daily_sales),
            "-" if r.days_of_cover is None else str(r.days_of_cover),
            str(r.suggested),
            "LOW" if r.low else "",
        )
    out.print(table)


@schema_app.command("order")
def schema_order() -> None:
    """The canonical order's JSON Schema."""
    _print_json(Order.json_schema())


@sandbox_app.command("serve")
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


suppliers_app = typer.Typer(no_args_is_help=True, help="Drop-ship suppliers and their sheets.")
app.add_typer(suppliers_app, name="suppliers")


@suppliers_app.command("export")
def suppliers_export(
    node: Annotated[str, typer.Argument(help="The file supplier's node code.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the sheet.")],
    sheet_format: Annotated[
        str, typer.Option("--format", help="xlsx or csv (UTF-8 with BOM).")
    ] = "xlsx",
) -> None:
    """Write every purchase order not yet sent to the supplier as one sheet."""
    from orderhub.services.suppliers import export_sheet

    if sheet_format not in ("xlsx", "csv"):
        raise OrderhubError(f"--format must be xlsx or csv, not {sheet_format!r}")
    hub = _hub()
    sheet = export_sheet(hub, node, fmt="csv" if sheet_format == "csv" else "xlsx")
    hub.close()
    out_file.write_bytes(sheet.data)
    out.print(f"{len(sheet.purchase_orders)} purchase order(s) for {node} written to {out_file}")


@suppliers_app.command("import")
def suppliers_import(
    node: Annotated[str, typer.Argument(help="The file supplier's node code.")],
    file: Annotated[Path, typer.Argument(help="The sheet the supplier filled in.")],
    json_out: JsonFlag = False,
) -> None:
    """Read a supplier's sheet of carriers and tracking numbers; rows that cannot be used
    are listed and kept as exceptions."""
    from orderhub.services.suppliers import import_sheet

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise OrderhubError(f"cannot read {file}: {exc.strerror or exc}") from exc
    hub = _hub()
    result = import_sheet(hub, node, data, file.name)
    hub.close()
    if json_out:
        _print_json(result.__dict__)
        return
    if result.duplicate:
        out.print(f"{file} was imported before; nothing changed")
        return
    out.print(f"{result.parcels} parcel(s) for {len(result.orders)} order(s) from {node}")
    for problem in result.problems:
        err.print(problem)


@suppliers_app.command("scores")
def suppliers_scores(json_out: JsonFlag = False) -> None:
    """How each supplier did in the last 30 days, and the share of orders it gets."""
    from orderhub.services.suppliers import supplier_views

    hub = _hub()
    rows = supplier_views(hub)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
        return
    table = Table(
        "supplier", "POs", "acknowledged", "shipped", "failed", "ack h", "ship h", "score"
    )
    for r in rows:
        table.add_row(
            r.node,
            str(r.pushed),
            str(r.acknowledged),
            str(r.shipped),
            str(r.failed),
            "-" if r.ack_hours is None else f"{r.ack_hours:.1f}",
            "-" if r.ship_hours is None else f"{r.ship_hours:.1f}",
            "-" if r.score is None else f"{r.score:.2f}",
        )
    out.print(table)


rules_app = typer.Typer(no_args_is_help=True, help="Rules that hold, reject or route orders.")
app.add_typer(rules_app, name="rules")
VersionOption = Annotated[int | None, typer.Option("--version", help="Version; default newest.")]


@rules_app.command("put")
def rules_put(
    file: Annotated[Path, typer.Argument(help="A rule set (YAML or JSON).")],
) -> None:
    """Store a rule set as a new draft version; nothing changes until it is activated."""
    import yaml

    from orderhub.services.rules import parse_rule_set, put_rule_set

    try:
        body = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OrderhubError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise OrderhubError(f"{file} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(body, dict):
        raise OrderhubError(f"{file} must hold one rule set (name, rules)")
    rule_set = parse_rule_set(body)
    hub = _hub()
    version = put_rule_set(hub, rule_set)
    hub.close()
    out.print(f"{rule_set.name} v{version} stored as a draft")


@rules_app.command("list")
def rules_list(json_out: JsonFlag = False) -> None:
    """Every rule set: the version in force and the newest one."""
    from orderhub.services.rules import list_rule_sets

    hub = _hub()
    rows = list_rule_sets(hub)
    hub.close()
    if json_out:
        _print_json([r.__dict__ for r in rows])
        return
    table = Table("name", "active", "newest", "rules", "description")
    for r in rows:
        table.add_row(
            r.name,
            "-" if r.active is None else f"v{r.active}",
            f"v{r.latest} ({r.latest_status})",
            str(r.rules),
            r.description,
        )
    out.print(table)


@rules_app.command("show")
def rules_show(
    name: Annotated[str, typer.Argument(help="Rule set name.")],
    version: VersionOption = None,
    json_out: JsonFlag = False,
) -> None:
    """One version of a rule set, as a file you can edit and put again."""
    import yaml

    from orderhub.services.rules import show_rule_set

    hub = _hub()
    stored = show_rule_set(hub, name, version)
    hub.close()
    body = stored.rule_set.model_dump(mode="json", exclude_none=True)
    if json_out:
        _print_json({"version": stored.version, "status": stored.status, "rule_set": body})
        return
    # Written as is: a console would wrap long lines and break the YAML.
    sys.stdout.write(f"# {stored.name} v{stored.version} ({stored.status})\n")
    sys.stdout.write(yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100))


@rules_app.command("activate")
def rules_activate(
    name: Annotated[str, typer.Argument(help="Rule set name.")],
    version: VersionOption = None,
) -> None:
    """Put a version in force for new orders; the version in force before is retired."""
    from orderhub.services.rules import activate_rule_set

    hub = _hub()
    activated = activate_rule_set(hub, name, version)
    hub.close()
    out.print(f"{name} v{activated} is active")


@rules_app.command("test")
def rules_test(
    name: Annotated[str, typer.Argument(help="Rule set name.")],
    version: VersionOption = None,
    orders: Annotated[
        str, typer.Option(help="Orders placed in: last-7d, last-12h, all or since an ISO time.")
    ] = "last-7d",
    limit: Annotated[int, typer.Option(help="At most this many orders.")] = 10_000,
    json_out: JsonFlag = False,
) -> None:
    """Dry run: what a version would have done to past orders; nothing is changed."""
    from datetime import UTC

    from orderhub.services.rules import dry_run, window_start

    since = window_start(orders, now=datetime.now(UTC))
    hub = _hub()
    report = dry_run(hub, name, version=version, since=since, limit=limit)
    hub.close()
    if json_out:
        _print_json(report.to_dict())
        return
    table = Table("rule", "action", "matched", "changed", "errors", "examples")
    for r in report.rules:
        action = f"{r.action} → {r.node}" if r.node else r.action
        table.add_row(
            r.rule if r.enabled else f"{r.rule} (disabled)",
            action,
            str(r.matched),
            "-" if r.changed is None else str(r.changed),
            str(r.errors),
            ", ".join(r.examples),
        )
    out.print(table)
    for r in report.rules:
        for example in r.error_examples:
            out.print(f"{r.rule} could not be evaluated for {example}")
    more = " (limit reached: more orders were not tested)" if report.truncated else ""
    out.print(
        f"{report.name} v{report.version} ({report.status}) tested on "
        f"{report.orders} order(s){more}; nothing was changed"
    )


returns_app = typer.Typer(no_args_is_help=True, help="Returns, refunds and exchanges (售后).")
app.add_typer(returns_app, name="returns")


@returns_app.command("list")
def returns_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    order: Annotated[str | None, typer.Option(help="Only returns of this order id.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Returns, newest first."""
    from orderhub.services.returns import list_returns, return_data

    hub = _hub()
    rows = list_returns(hub, status=status, order_id=order)
    hub.close()
    if json_out:
        _print_json([return_data(r) for r in rows])
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


@returns_app.command("show")
def returns_show(
    return_id: Annotated[str, typer.Argument(help="Return id (the code the node knows).")],
    json_out: JsonFlag = False,
) -> None:
    """One return: what was announced, what arrived, and how the stock was booked."""
    from orderhub.services.returns import get_return, return_data

    hub = _hub()
    record = get_return(hub, return_id)
    hub.close()
    if json_out:
        _print_json(return_data(record))
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


@returns_app.command("exchange")
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
    hub = _hub()
    result = create_exchange(hub, order_id, lines, sku)
    hub.close()
    if json_out:
        _print_json(
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


def main() -> None:
    """Entry point: run the app, turning known errors into one plain sentence."""
    try:
        app(standalone_mode=False)
    except InvalidOrder as exc:
        err.print("the payload cannot become a valid order:")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise SystemExit(2) from None
    except OrderhubError as exc:
        err.print(f"orderhub: {exc}")
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except Exception as exc:
        # Usage errors come from the click that Typer bundles (not always the `click`
        # package), so they are recognised by what they carry, not by their class.
        exit_code = getattr(exc, "exit_code", None)
        if isinstance(exit_code, int):
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            raise SystemExit(exit_code) from None
        raise
