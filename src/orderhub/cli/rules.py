"""Rules that hold, reject or route orders."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Rules that hold, reject or route orders.")


VersionOption = Annotated[int | None, typer.Option("--version", help="Version; default newest.")]


@app.command("put")
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
    hub = open_hub()
    version = put_rule_set(hub, rule_set)
    hub.close()
    out.print(f"{rule_set.name} v{version} stored as a draft")


@app.command("list")
def rules_list(json_out: JsonFlag = False) -> None:
    """Every rule set: the version in force and the newest one."""
    from orderhub.services.rules import list_rule_sets

    hub = open_hub()
    rows = list_rule_sets(hub)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
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


@app.command("show")
def rules_show(
    name: Annotated[str, typer.Argument(help="Rule set name.")],
    version: VersionOption = None,
    json_out: JsonFlag = False,
) -> None:
    """One version of a rule set, as a file you can edit and put again."""
    import yaml

    from orderhub.services.rules import show_rule_set

    hub = open_hub()
    stored = show_rule_set(hub, name, version)
    hub.close()
    body = stored.rule_set.model_dump(mode="json", exclude_none=True)
    if json_out:
        print_json({"version": stored.version, "status": stored.status, "rule_set": body})
        return
    # Written as is: a console would wrap long lines and break the YAML.
    sys.stdout.write(f"# {stored.name} v{stored.version} ({stored.status})\n")
    sys.stdout.write(yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100))


@app.command("activate")
def rules_activate(
    name: Annotated[str, typer.Argument(help="Rule set name.")],
    version: VersionOption = None,
) -> None:
    """Put a version in force for new orders; the version in force before is retired."""
    from orderhub.services.rules import activate_rule_set

    hub = open_hub()
    activated = activate_rule_set(hub, name, version)
    hub.close()
    out.print(f"{name} v{activated} is active")


@app.command("test")
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
    hub = open_hub()
    report = dry_run(hub, name, version=version, since=since, limit=limit)
    hub.close()
    if json_out:
        print_json(report.to_dict())
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
