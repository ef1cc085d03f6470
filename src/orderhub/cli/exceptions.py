"""Orders and payloads held for a person."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, err, open_hub, out, pairs, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Orders and payloads held for a person.")

LimitOption = Annotated[int, typer.Option(help="How many to show (at most 1000).", min=1, max=1000)]
OffsetOption = Annotated[int, typer.Option(help="How many to skip first.", min=0)]


def page_data(page: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A page as JSON: the items and where they sit in the whole list."""
    return {"total": page.total, "limit": page.limit, "offset": page.offset, "items": items}


@app.command("list")
def exceptions_list(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    code: Annotated[str | None, typer.Option(help="Only this code.")] = None,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    json_out: JsonFlag = False,
) -> None:
    """Exceptions, newest first, a page at a time, with how many there are in all."""
    from orderhub.services.queries import exception_list

    hub = open_hub()
    page = exception_list(
        hub, status=None if status == "all" else status, code=code, limit=limit, offset=offset
    )
    hub.close()
    if json_out:
        items = [
            {**r.__dict__, "created_at": r.created_at, "resolved_at": r.resolved_at}
            for r in page.items
        ]
        print_json(page_data(page, items))
        return
    table = Table("id", "stage", "code", "order", "message")
    table.columns[0].overflow = "fold"
    for r in page.items:
        table.add_row(r.id, r.stage, r.code, r.order_id or r.inbox_id or "", r.message)
    out.print(table)
    more = page.offset + len(page.items) < page.total
    out.print(page.shown + (f"; --offset {page.offset + len(page.items)} for more" if more else ""))


@app.command("show")
def exceptions_show(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
    json_out: JsonFlag = False,
) -> None:
    """One exception: why, about what, and how to act on it (or how it was closed)."""
    from orderhub.services.queries import exception_view

    hub = open_hub()
    view = exception_view(hub, exception_id)
    hub.close()
    if json_out:
        print_json(view)
        return
    for key, value in view.items():
        if key == "actions":
            if not value:
                continue
            value = ", ".join(value) + f"  (orderhub exceptions resolve {exception_id} --action …)"
        if key == "now_open":
            value = ", ".join(value) or "nothing; the matter is closed"
        out.print(f"{key}: {value}")


def _said(result: Any) -> str:
    line = str(result.outcome)
    if result.status:
        line += f"; order {result.order_id} is {result.status}"
    if result.now_open:
        line += f"; now open: {', '.join(result.now_open)}"
    return line


@app.command("replay")
def exceptions_replay(
    exception_id: Annotated[str, typer.Argument(help="Exception id.")],
) -> None:
    """After fixing the cause: replay the order, payload or job the exception stopped.
    Replaying twice changes nothing the second time."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.exceptions import replay_exception

    hub = open_hub()
    try:
        result = replay_exception(hub, exception_id, by=cli_principal().name)
    finally:
        hub.close()
    out.print(_said(result))


@app.command("resolve")
def exceptions_resolve(
    exception_id: Annotated[
        str | None, typer.Argument(help="Exception id (or --code for all of a code).")
    ] = None,
    action: Annotated[
        str,
        typer.Option(help="fix_address, map_sku, release, retry, cancel or dismiss."),
    ] = "",
    code: Annotated[
        str | None, typer.Option(help="Resolve every open exception of this code.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="fix_address: receiver.FIELD=VALUE (repeatable)."),
    ] = None,
    sku: Annotated[
        list[str] | None,
        typer.Option(help="map_sku: CHANNEL_SKU=OUR_SKU (repeatable)."),
    ] = None,
    note: Annotated[
        str, typer.Option(help="Why, for the order's trace; dismiss needs it and keeps it.")
    ] = "",
) -> None:
    """Act on an exception (see `exceptions show` for the allowed actions), then replay;
    with --code, on every open exception of that code."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.exceptions import resolve_by_code, resolve_exception

    if not action:
        raise OrderhubError(
            "--action is needed: fix_address, map_sku, release, retry, cancel or dismiss"
        )
    if (exception_id is None) == (code is None):
        raise OrderhubError("name one exception, or --code for every open exception of a code")
    receiver = pairs("--set", set_ or [])
    skus = pairs("--sku", sku or [])
    by = cli_principal().name
    hub = open_hub()
    try:
        if code is not None:
            bulk = resolve_by_code(
                hub, code, action, receiver=receiver, skus=skus, note=note, by=by
            )
        else:
            assert exception_id is not None
            result = resolve_exception(
                hub, exception_id, action, receiver=receiver, skus=skus, note=note, by=by
            )
            out.print(_said(result))
            return
    finally:
        hub.close()
    for item in bulk.results:
        out.print(f"{item.exception_id}: {_said(item)}")
    for exception_id_, why in bulk.refused:
        err.print(f"{exception_id_}: not resolved: {why}")
    out.print(
        f"{len(bulk.results)} {code} exception(s) resolved with {action}"
        + (f", {len(bulk.refused)} could not be" if bulk.refused else "")
    )
    if bulk.refused:
        raise typer.Exit(1)
