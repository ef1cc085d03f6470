"""Buyers across shops: find, tag, export and erase on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Buyers across shops: tags, export, erasure.")


def _show(buyer: Any, json_out: bool) -> None:
    from orderhub.services.buyers import buyer_shown

    facts = buyer_shown(buyer)
    if json_out:
        print_json(facts)
        return
    tags = ", ".join(facts["tags"]) or "no tags"
    out.print(
        f"buyer {facts['id']}: {facts['orders']} order(s), spent {facts['spend']}, "
        f"{facts['returns']} return(s); {tags}" + (" (erased)" if facts["erased"] else "")
    )


@app.command("find")
def buyers_find(
    phone: Annotated[str, typer.Option(help="The buyer's or receiver's phone.")] = "",
    email: Annotated[str, typer.Option(help="The buyer's e-mail.")] = "",
    order: Annotated[str, typer.Option(help="One of the buyer's orders.")] = "",
    json_out: JsonFlag = False,
) -> None:
    """Find a buyer by phone, e-mail or order (phones and e-mails are looked up by keyed
    hash; the hub keeps none readable)."""
    from orderhub.services.buyers import find_buyer

    hub = open_hub()
    try:
        _show(find_buyer(hub, phone=phone, email=email, order=order), json_out)
    finally:
        hub.close()


@app.command("tag")
def buyers_tag(
    buyer_id: Annotated[str, typer.Argument(help="The buyer's id (b…).")],
    add: Annotated[list[str] | None, typer.Option("--add", help="A tag to add, e.g. vip.")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="A tag to take off.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Tag a buyer (rules read `buyer.tags`); audited."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.buyers import tag_buyer

    hub = open_hub()
    try:
        found = tag_buyer(hub, buyer_id, add=add or [], remove=remove or [], who=cli_principal())
    finally:
        hub.close()
    _show(found, json_out)


@app.command("export")
def buyers_export(
    buyer_id: Annotated[str, typer.Argument(help="The buyer's id (b…).")],
    reason: Annotated[str, typer.Option(help="Why (the buyer's request); audited.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the JSON.")],
) -> None:
    """Write everything held about the buyer, personal data in clear, as JSON."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.buyers import export_buyer

    hub = open_hub()
    try:
        data = export_buyer(hub, buyer_id, who=cli_principal(), reason=reason)
    finally:
        hub.close()
    out_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    out.print(f"buyer {buyer_id}: {len(data['orders'])} order(s) written to {out_file}")


@app.command("erase")
def buyers_erase(
    buyer_id: Annotated[str, typer.Argument(help="The buyer's id (b…).")],
    reason: Annotated[str, typer.Option(help="Why (the buyer's request); audited.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
) -> None:
    """Destroy the buyer's personal data in every order and payload. It cannot be undone."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.buyers import erase_buyer

    if not yes and not typer.confirm(f"Erase buyer {buyer_id}'s personal data for good?"):
        raise OrderhubError("nothing erased")
    hub = open_hub()
    try:
        done = erase_buyer(hub, buyer_id, who=cli_principal(), reason=reason)
    finally:
        hub.close()
    out.print(
        f"buyer {buyer_id} erased: {done.orders} order(s) emptied of personal data, "
        f"{done.payloads} payload(s) destroyed"
    )
