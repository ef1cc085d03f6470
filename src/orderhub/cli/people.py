"""People and their tokens: who may use orderhub, with which role, for which shops."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

users_app = typer.Typer(no_args_is_help=True, help="People who use orderhub, and their roles.")
tokens_app = typer.Typer(no_args_is_help=True, help="Personal API tokens.")

ROLES = "owner, admin, operator, finance or viewer"


def _shops(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (text or "").split(",") if s.strip())


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise OrderhubError("--password-stdin: no password was given on standard input")
    return password


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="The name the person signs in with.")],
    role: Annotated[str, typer.Option(help=ROLES)],
    shops: Annotated[
        str | None, typer.Option(help="Only these shops (comma-separated); default all.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input; else one is made up.")
    ] = False,
) -> None:
    """Add a person. Without --password-stdin a password is made up and printed once."""
    from orderhub.services.accounts import create_user
    from orderhub.services.audit import cli_principal

    password = _password_from_stdin() if password_stdin else None
    hub = open_hub()
    try:
        user, made_up = create_user(
            hub, name, role, actor=cli_principal(), shops=_shops(shops), password=password
        )
    finally:
        hub.close()
    scope = ", ".join(user.shops) or "every shop"
    out.print(f"user {user.name} created: {user.role.value} for {scope}")
    if made_up:
        out.print("password (shown once):")
        out.print(made_up)


@users_app.command("list")
def users_list(json_out: JsonFlag = False) -> None:
    """Every person, with role, shops and whether they may sign in."""
    from orderhub.services.accounts import list_users

    hub = open_hub()
    rows = list_users(hub)
    hub.close()
    data = [
        {
            "name": u.name,
            "role": u.role.value,
            "shops": list(u.shops),
            "disabled": u.disabled,
            "locked_until": u.locked_until.isoformat() if u.locked_until else None,
            "created_at": u.created_at.isoformat(),
        }
        for u in rows
    ]
    if json_out:
        print_json(data)
        return
    table = Table("name", "role", "shops", "state")
    for column in table.columns:
        column.overflow = "fold"
    for user in rows:
        state = "disabled" if user.disabled else ("locked" if user.locked_until else "active")
        table.add_row(user.name, user.role.value, ", ".join(user.shops) or "all", state)
    out.print(table)


@users_app.command("set")
def users_set(
    name: Annotated[str, typer.Argument(help="The person.")],
    role: Annotated[str | None, typer.Option(help=ROLES)] = None,
    shops: Annotated[
        str | None, typer.Option(help="Only these shops (comma-separated); '' for all.")
    ] = None,
    disable: Annotated[bool | None, typer.Option("--disable/--enable")] = None,
    password_stdin: Annotated[bool, typer.Option(help="New password on standard input.")] = False,
) -> None:
    """Change a person's role, shops, password, or take their access away."""
    from orderhub.services.accounts import set_user
    from orderhub.services.audit import cli_principal

    hub = open_hub()
    try:
        user = set_user(
            hub,
            name,
            actor=cli_principal(),
            role=role,
            shops=None if shops is None else _shops(shops),
            disabled=disable,
            password=_password_from_stdin() if password_stdin else None,
        )
    finally:
        hub.close()
    state = "disabled" if user.disabled else "active"
    out.print(f"user {user.name}: {user.role.value}, {', '.join(user.shops) or 'all'}, {state}")


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="Whose token: it acts with their role and shops.")],
    expires: Annotated[
        str | None, typer.Option(help="Lifetime such as 30d, 12h or 90m; default never.")
    ] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Make a personal API token; it is printed once, as the last line."""
    from orderhub.services.accounts import create_token, parse_duration
    from orderhub.services.audit import cli_principal

    lifetime = parse_duration(expires) if expires else None
    hub = open_hub()
    try:
        token = create_token(hub, user, actor=cli_principal(), name=name, expires_in=lifetime)
    finally:
        hub.close()
    until = token.expires_at.isoformat(timespec="minutes") if token.expires_at else "never"
    out.print(f"token {token.id} for {token.user}, expires {until}; keep it secret:")
    sys.stdout.flush()
    sys.stdout.write(token.secret + "\n")


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option(help="Only this person's tokens.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Tokens, without their secrets: whose, when made, last used, expiry, revoked."""
    from orderhub.services.accounts import list_tokens

    hub = open_hub()
    rows = list_tokens(hub, user)
    hub.close()

    def when(value: object) -> str:
        return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else ""

    if json_out:
        print_json(
            [
                {
                    "id": r.id,
                    "user": r.user,
                    "name": r.name,
                    "created_at": when(r.created_at),
                    "expires_at": when(r.expires_at),
                    "last_used_at": when(r.last_used_at),
                    "revoked_at": when(r.revoked_at),
                }
                for r in rows
            ]
        )
        return
    table = Table("id", "user", "name", "created", "expires", "last used", "revoked")
    for column in table.columns:
        column.overflow = "fold"
    for r in rows:
        table.add_row(
            r.id,
            r.user,
            r.name,
            when(r.created_at),
            when(r.expires_at) or "never",
            when(r.last_used_at),
            when(r.revoked_at),
        )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Take a token's access away at once."""
    from orderhub.services.accounts import revoke_token
    from orderhub.services.audit import cli_principal

    hub = open_hub()
    try:
        token = revoke_token(hub, token_id, actor=cli_principal())
    finally:
        hub.close()
    out.print(f"token {token.id} of {token.user} is revoked")
