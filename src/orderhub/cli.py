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
    platform: Annotated[str, typer.Argument(help="shopify or qimen")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9000,
) -> None:
    """Run one emulator in the foreground, for any client to talk to."""
    if platform == "shopify":
        from orderhub.sandbox.shopify import run as run_shopify

        run_shopify(port)
    elif platform == "qimen":
        from orderhub.sandbox.qimen import run as run_qimen

        run_qimen(port)
    else:
        raise OrderhubError(f"no emulator for {platform!r}; choose shopify or qimen")


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
