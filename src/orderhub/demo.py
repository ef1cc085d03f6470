"""`orderhub demo`: the hub on SQLite with emulated shops, marketplaces and warehouses.

The demo starts a `Stack` (see demo_stack), places orders as buyers would and shows them
flowing, with the console's address and a sign-in to watch them in the browser.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy.engine import make_url

from orderhub.config import (
    Settings,
)
from orderhub.demo_crossborder import cross_border_options
from orderhub.demo_marketplaces import MARKETPLACES
from orderhub.demo_stack import DEMO_DATABASE, Stack, StackOptions, sku_codes
from orderhub.domain.errors import ConfigurationError
from orderhub.jobs.scheduler import Scheduler
from orderhub.services.accounts import create_user
from orderhub.services.audit import cli_principal
from orderhub.services.sync import pull_orders

__all__ = ["DemoOptions", "run_demo"]


@dataclass
class DemoOptions:
    """The demo's knobs, as the CLI passes them."""

    orders: int = 200
    rate: float = 20.0
    shops: int = 1
    stock: int = 1000
    skus: int = 1
    exit_when_done: bool = False
    quiet: bool = False
    channels: tuple[str, ...] = ("shopify",)
    port: int = 8000  # the console's; another is picked when it is taken


DEMO_MARK = ".made-by-orderhub-demo"
"""Beside a SQLite file the demo made: only such a file may be replaced by the next demo."""


class DemoRefused(ConfigurationError):
    """The demo would have used a database it did not make; nothing was touched."""


def _demo_settings() -> Settings:
    """The demo's database: a SQLite file it makes (or made before, and may replace), or
    an empty PostgreSQL database. Anything else is refused untouched."""
    settings = Settings()
    if "ORDERHUB_DATABASE_URL" not in os.environ:
        settings.database_url = DEMO_DATABASE
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        _claim_sqlite(Path(url.database))
    elif url.get_backend_name() == "sqlite":
        pass
    else:
        _check_postgres(settings.database_url)
        settings.tenant = f"demo-{int(time.time())}"
    settings.stock_push_window = 0.5
    settings.pull_interval = 3600
    # The emulated shops are new: nothing was sold before the demo began.
    settings.pull_history_hours = 1
    settings.poll_interval = 2
    settings.node_poll_interval = 2
    return settings


def _claim_sqlite(path: Path) -> None:
    mark = path.with_name(path.name + DEMO_MARK)
    if path.exists() and not mark.exists():
        raise DemoRefused(
            f"orderhub demo will not use {path.resolve()}: the file exists and was not made by the "
            "demo; move it away or set ORDERHUB_DATABASE_URL to a new file"
        )
    for suffix in ("", "-wal", "-shm", ".key"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    if not path.parent.is_dir():
        raise DemoRefused(f"the folder {path.parent} for the demo's database does not exist")
    mark.write_text("This database was made by `orderhub demo`; the next demo may replace it.\n")


def _check_postgres(database_url: str) -> None:
    """A PostgreSQL database is used only while it holds no tables but the demo's own."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            tenants: set[str] = set()
            if "shops" in tables:
                tenants = set(conn.execute(text("SELECT DISTINCT tenant FROM shops")).scalars())
    except Exception as exc:
        raise DemoRefused(f"cannot reach the demo's database: {exc}") from exc
    finally:
        engine.dispose()
    if any(not tenant.startswith("demo-") for tenant in tenants):
        raise DemoRefused(
            f"orderhub demo will not use {make_url(database_url).database}: it holds data "
            "that is not the demo's; give it an empty database"
        )


def _progress(stack: Stack, started: float) -> Table:
    summary = stack.summary()
    table = Table(title=f"orderhub demo — {time.monotonic() - started:.0f}s")
    table.add_column("stage")
    table.add_column("orders", justify="right")
    for key in (
        "placed",
        "received",
        "pushed_to_warehouse",
        "shipped",
        "confirmed_to_channel",
        "completed",
        "held",
        "exceptions",
        "oversold",
    ):
        table.add_row(key.replace("_", " "), str(summary[key]))
    books = summary.get("booked_in_erp") or {}
    if books:
        table.add_row(
            "booked in the ERP",
            f"{books.get('SAL_SaleOrder', 0)} sales, {books.get('SAL_OUTSTOCK', 0)} outbounds",
        )
    if len(summary["by_shop"]) > 1:
        for code, row in summary["by_shop"].items():
            table.add_row(
                f"{code}",
                f"{row['received']}/{row['placed']} in, {row['shipped']} shipped, "
                f"{row['confirmed']} confirmed, {row['held']} held",
            )
    for code, stock in summary["listed_stock"].items():
        table.add_row(f"{code} listed stock", " ".join(f"{v}" for v in stock.values()))
    return table


def _line(stack: Stack, started: float) -> str:
    """One plain progress line, for output that is not a terminal."""
    summary = stack.summary()
    return (
        f"{time.monotonic() - started:.0f}s: placed {summary['placed']}, "
        f"received {summary['received']}, at warehouse {summary['pushed_to_warehouse']}, "
        f"shipped {summary['shipped']}, confirmed {summary['confirmed_to_channel']}, "
        f"held {summary['held']}, exceptions {summary['exceptions']}, "
        f"oversold {summary['oversold']}"
    )


class _Report:
    """Progress as a live table on a terminal, or a plain line every few seconds when the
    output goes to a file or a pipe; and one line when every order has settled."""

    EVERY = 2.0

    def __init__(self, stack: Stack, started: float, console: Console) -> None:
        self.stack, self.started, self.console = stack, started, console
        self.live = (
            Live(_progress(stack, started), console=console, refresh_per_second=4)
            if console.is_terminal
            else None
        )
        self.printed = 0.0
        self.settled_said = False

    def __enter__(self) -> _Report:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def tick(self, *, force: bool = False) -> None:
        if self.live is not None:
            self.live.update(_progress(self.stack, self.started))
        elif force or time.monotonic() - self.printed >= self.EVERY:
            self.printed = time.monotonic()
            self.console.print(_line(self.stack, self.started))

    def settled(self, *, exiting: bool) -> None:
        if self.settled_said:
            return
        self.settled_said = True
        self.tick(force=True)
        then = "" if exiting else "; the hub keeps running, Ctrl-C stops it"
        self.console.print(
            f"all {self.stack.placed()} orders settled after "
            f"{time.monotonic() - self.started:.0f}s{then}"
        )


def run_demo(options: DemoOptions, *, on_tick: Callable[[], None] | None = None) -> dict[str, Any]:
    """Place orders at a steady rate, show progress, and return the summary."""
    every = options.channels == ("all",)
    channels = ("shopify", *MARKETPLACES) if every else options.channels
    unknown = set(channels) - {"shopify", *MARKETPLACES}
    if unknown or not channels:
        known = ", ".join(("shopify", *MARKETPLACES, "all"))
        raise ConfigurationError(f"--channels takes some of {known}, not {','.join(unknown)}")
    stack = Stack(
        _demo_settings(),
        StackOptions(
            shops=options.shops if "shopify" in channels else 0,
            skus=options.skus,
            stock=options.stock,
            marketplaces=tuple(c for c in channels if c != "shopify"),
            api_port=options.port,
            erp=True,
            **(cross_border_options(sku_codes(options.skus), options.stock) if every else {}),
        ),
    ).start()
    password = secrets.token_urlsafe(9)
    create_user(stack.hub, "demo", "owner", actor=cli_principal(), password=password)
    # Marketplaces push nothing: the scheduler polls them, as `orderhub worker` does.
    scheduler = Scheduler(stack.hub) if stack.marketplaces else None
    if scheduler is not None:
        scheduler.start()
    console = Console(stderr=True, quiet=options.quiet, soft_wrap=True)
    rng = random.Random(7)
    console.print(
        f"Console: {stack.api.url}/  (sign in as [bold]demo[/], password [bold]{password}[/])"
    )
    started = time.monotonic()
    selling: dict[str, Any] = {**stack.shops, **stack.marketplaces}
    codes = list(selling)
    try:
        with _Report(stack, started, console) as report:
            for i in range(options.orders):
                due = started + i / options.rate
                while time.monotonic() < due:
                    time.sleep(min(0.05, due - time.monotonic()))
                sku = rng.choice(stack.sku_codes)
                shop = selling[codes[i % len(codes)]]
                shop.place_order({"lines": [{"sku": sku, "quantity": 1}]})
                if i % 10 == 0:
                    report.tick()
            deadline = time.monotonic() + 120 + options.orders / 50
            try:
                while True:
                    if on_tick:
                        on_tick()
                    report.tick()
                    if stack.settled():
                        # The pull is the safety net under webhooks: nothing may be missing.
                        for code in codes:
                            pull_orders(stack.hub, code)
                        if stack.settled():
                            report.settled(exiting=options.exit_when_done)
                            if options.exit_when_done:
                                break
                    if options.exit_when_done and time.monotonic() > deadline:
                        console.print("stopped waiting: some orders have not settled")
                        break
                    time.sleep(0.25)
            except KeyboardInterrupt:
                pass
            report.tick(force=True)
        summary = stack.summary()
        summary["seconds"] = round(time.monotonic() - started, 2)
        summary["database"] = stack.settings.database_url
        return summary
    finally:
        if scheduler is not None:
            scheduler.stop()
        stack.stop()
