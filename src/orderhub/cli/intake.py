"""Orders in by hand: preview a mapping, import a file, pull from a shop."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from orderhub.cli._common import err, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError
from orderhub.services.platforms import summary

app = typer.Typer()
sync_app = typer.Typer(no_args_is_help=True, help="Pull orders from shops by hand.")


def read_orders(file: Path) -> list[Any]:
    """One raw order or a list of them from a JSON file; anything else is one sentence
    saying what the file looks like instead."""
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        raise OrderhubError(f"{file} does not exist") from exc
    except OSError as exc:
        raise OrderhubError(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        looks = _looks_like(data)
        what = f"is not JSON{looks}" if looks else f"is not valid JSON ({exc})"
        raise OrderhubError(
            f"{file} {what}; give one raw order or a list of them, as the shop's API returns them"
        ) from exc
    orders = parsed if isinstance(parsed, list) else [parsed]
    if not orders or not all(isinstance(o, dict) for o in orders):
        raise OrderhubError(f"{file} must hold one order (a JSON object) or a list of them")
    return orders


def _looks_like(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return " (it looks like an Excel workbook)"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return " (it looks like an old Excel .xls file)"
    head = data[:2000].decode("utf-8", "replace").lstrip("\ufeff")
    first = head.splitlines()[0] if head.strip() else ""
    if first and first[:1] not in "[{" and ("," in first or "\t" in first):
        return " (it looks like a CSV file)"
    return ""


def _has_database() -> bool:
    """Whether a hub database is configured or present here, to check SKUs against."""
    return bool(
        os.environ.get("ORDERHUB_DATABASE_URL")
        or os.environ.get("ORDERHUB_CONFIG")
        or Path("orderhub.db").exists()
    )


@app.command("map")
def map_command(
    file: Annotated[Path, typer.Argument(help="Raw platform orders: one or a list (JSON).")],
    shop: Annotated[
        str, typer.Option(help="The shop: its listings and SKUs are checked when configured.")
    ] = "preview",
    platform: Annotated[
        str | None, typer.Option(help=f"The platform, for a shop not configured here. {summary()}")
    ] = None,
) -> None:
    """Show the canonical order each raw payload maps to, with every problem the pipeline
    would hold it for; exits 2 when one cannot become a valid order."""
    from orderhub.services.preview import preview_orders

    raws = read_orders(file)
    hub = open_hub() if _has_database() else None
    try:
        results = preview_orders(hub, raws, shop=shop, platform=platform)
    finally:
        if hub is not None:
            hub.close()
    failed = 0
    for result in results:
        if result.order is not None:
            print_json(result.order.model_dump(mode="json", exclude={"trace", "exceptions"}))
        for problem in result.problems:
            err.print(f"  - [{problem.code}] {problem}")
        if result.skipped:
            err.print(f"  ({result.skipped})")
        failed += not result.valid
    if failed:
        err.print(f"{failed} of {len(results)} order(s) cannot become valid orders")
        raise typer.Exit(2)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="JSON file: one raw order or a list of them.")],
    shop: Annotated[str, typer.Option(help="The shop the orders belong to.")],
) -> None:
    """Ingest raw platform payloads from a file, as if the shop had sent them."""
    from orderhub.jobs.worker import Worker
    from orderhub.services.ingest import receive_payload

    payloads = read_orders(file)
    hub = open_hub()
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
    hub = open_hub()
    result = pull_orders(hub, shop, since=moment)
    Worker(hub, threads=1).run_until_idle(timeout=120)
    hub.close()
    out.print(f"{result.fetched} order(s) fetched, {result.new} new; cursor {result.cursor}")
