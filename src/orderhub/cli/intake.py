"""Orders in by hand: preview a mapping, import a file, pull from a shop."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from orderhub.cli._common import open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer()
sync_app = typer.Typer(no_args_is_help=True, help="Pull orders from shops by hand.")


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
    print_json(order.model_dump(mode="json", exclude={"trace", "exceptions"}))


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
