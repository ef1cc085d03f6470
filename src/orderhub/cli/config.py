"""The configuration file: check it, or apply it now."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import ConfigurationError

app = typer.Typer(no_args_is_help=True, help="The YAML file of shops, nodes, SKUs and stock.")

FileOption = Annotated[
    Path | None, typer.Option("--file", help="The file; default ORDERHUB_CONFIG.")
]


def _file(given: Path | None) -> Path:
    from orderhub.bootstrap import load_settings

    path = given or load_settings().config
    if path is None:
        raise ConfigurationError("name a file with --file or set ORDERHUB_CONFIG")
    return path


@app.command("check")
def config_check(file: FileOption = None) -> None:
    """Read and validate the file; nothing is written."""
    from orderhub.config import load_hub_config

    path = _file(file)
    config = load_hub_config(path)
    out.print(
        f"{path}: {len(config.shops)} shop(s), {len(config.nodes)} node(s), "
        f"{len(config.skus)} SKU(s), {len(config.listings)} listing(s); nothing was written"
    )


@app.command("apply")
def config_apply(file: FileOption = None, json_out: JsonFlag = False) -> None:
    """Write what differs from the database; an unchanged file changes nothing."""
    from orderhub.config import load_hub_config
    from orderhub.services.setup import apply_config

    path = _file(file)
    config = load_hub_config(path)
    hub = open_hub()
    try:
        applied = apply_config(hub, config)
    finally:
        hub.close()
    if json_out:
        print_json({**applied.__dict__, "changed": applied.changed})
        return
    if not applied.changed:
        out.print(f"{path} is already in force; nothing changed")
        return
    out.print(
        f"{path} applied: {applied.shops} shop(s), {applied.nodes} node(s), "
        f"{applied.skus} SKU(s), {applied.listings} listing(s) and "
        f"{applied.opening_stock} opening stock level(s) added or changed"
    )
