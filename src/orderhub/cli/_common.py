"""What every command shares: the consoles, JSON output and the hub it works on."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from orderhub.domain.errors import OrderhubError

__all__ = ["JsonFlag", "err", "open_hub", "out", "pairs", "print_json", "seller_zone"]

# Shop data (titles, addresses, SKUs) is printed as is: no rich markup, and error
# sentences are never wrapped, so each stays one line.
out = Console(markup=False)
err = Console(stderr=True, markup=False, soft_wrap=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def open_hub(*, migrate: bool = True, apply: bool = False) -> Any:
    """The hub on the configured database (imported late: `--help` stays fast); `apply`
    applies ORDERHUB_CONFIG, which only starting a server or worker does."""
    from orderhub.bootstrap import build_hub

    return build_hub(migrate=migrate, apply=apply)


def seller_zone() -> str:
    """The time zone times are shown in (ORDERHUB_TIMEZONE)."""
    from orderhub.bootstrap import load_settings

    return load_settings().timezone


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def pairs(option: str, values: list[str]) -> dict[str, str]:
    """`NAME=VALUE` options as a dict; anything else is one plain sentence."""
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OrderhubError(f"{option} {item!r} is not NAME=VALUE")
        result[key.strip()] = value
    return result
