"""The `orderhub` command line: thin commands over the services, one module per noun.

Every failure the operator can fix prints one plain sentence and exits 2; no traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Annotated

import typer

from orderhub.cli import (
    alerts,
    audit,
    buyers,
    config,
    exceptions,
    finance,
    intake,
    jobs,
    keeping,
    listings,
    orders,
    people,
    reports,
    returns,
    rules,
    running,
    sandbox,
    stock,
    suppliers,
)
from orderhub.cli._audit import audit_action
from orderhub.cli._common import err, open_hub, out
from orderhub.domain.errors import InvalidOrder, OrderhubError
from orderhub.services.platforms import summary

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=f"orderhub: every shop, every warehouse, one hub. {summary()}",
)


def _show_version(value: bool) -> None:
    if value:
        out.print(f"orderhub {version('orderhub')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """orderhub: every shop, every warehouse, one hub."""


app.add_typer(running.app)
app.add_typer(intake.app)
app.add_typer(running.db_app, name="db")
app.add_typer(intake.sync_app, name="sync")
app.add_typer(orders.app, name="orders")
app.add_typer(exceptions.app, name="exceptions")
app.add_typer(jobs.app, name="jobs")
app.add_typer(running.schema_app, name="schema")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(stock.app, name="stock")
app.add_typer(listings.app, name="listings")
app.add_typer(alerts.app, name="alerts")
app.add_typer(suppliers.app, name="suppliers")
app.add_typer(reports.app, name="reports")
app.add_typer(buyers.app, name="buyers")
app.add_typer(finance.app, name="finance")
app.add_typer(rules.app, name="rules")
app.add_typer(returns.app, name="returns")
app.add_typer(people.users_app, name="users")
app.add_typer(people.tokens_app, name="tokens")
app.add_typer(audit.app, name="audit")
app.add_typer(config.app, name="config")
app.add_typer(keeping.keys_app, name="keys")
app.add_typer(keeping.retention_app, name="retention")


def _audit(argv: list[str]) -> None:
    """Record a command line that changed something, with who ran it."""
    action = audit_action(argv)
    if action is None:
        return
    from orderhub.services.audit import cli_principal, record_change

    shown = _masked(argv)
    words = [a for a in shown if not a.startswith("-")]
    hub = open_hub(migrate=False)
    try:
        target = " ".join(words[2:] if action.startswith("cli ") else words[2:3])
        detail = "orderhub " + " ".join(shown)
        record_change(hub, cli_principal(), action, target[:200], detail=detail[:2000])
    finally:
        hub.close()


def _masked(argv: list[str]) -> list[str]:
    """The command line with secrets hidden and a receiver's details (`--set
    phone=...`) masked as screens mask them."""
    from orderhub.services.audit import mask_secrets

    masked, hide, personal = [], False, False
    for arg in argv:
        if personal and "=" in arg:
            name, _, value = arg.partition("=")
            field = name.removeprefix("receiver.")
            shown = mask_secrets({"receiver": {field: value}})["receiver"][field]
            masked.append(f"{name}={shown}")
        else:
            masked.append("***" if hide else arg)
        hide = arg.startswith("--") and any(w in arg for w in ("password", "secret", "token"))
        personal = arg == "--set"
    return masked


def main() -> None:
    """Entry point: run the app, turning known errors into one plain sentence."""
    argv = sys.argv[1:]
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            raise SystemExit(code)
        _audit(argv)
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
