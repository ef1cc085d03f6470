"""People and tokens: creating them, proving who someone is, and taking access away.

Passwords are hashed with argon2; a sign-in that fails `LOCKOUT_AFTER` times in a row
locks the account for `LOCKOUT_SECONDS`. A personal token is `oh_` + 32 random bytes,
shown once and stored as its SHA-256; it carries its owner's role and shop scope,
expires if asked to, and can be revoked. Every change here is in the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orderhub.domain.access import Principal, Role
from orderhub.domain.errors import OrderhubError
from orderhub.services.audit import record
from orderhub.services.hub import Hub
from orderhub.store.ids import new_id
from orderhub.store.people import TokenRecord, UserRecord

__all__ = [
    "LOCKOUT_AFTER",
    "LOCKOUT_SECONDS",
    "AccessDenied",
    "NewToken",
    "authenticate",
    "create_token",
    "create_user",
    "list_tokens",
    "list_users",
    "parse_duration",
    "principal_for_token",
    "revoke_token",
    "set_user",
    "user_principal",
]

LOCKOUT_AFTER = 5
LOCKOUT_SECONDS = 900
_NAME = re.compile(r"^[A-Za-z0-9._@\-\u4e00-\u9fff]{1,64}$")
_hasher = PasswordHasher()
_LAST_USED_EVERY = timedelta(minutes=1)


class AccessDenied(OrderhubError):
    """No valid identity: unknown, wrong, expired, revoked, disabled or locked."""


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown this once and never stored."""

    id: str
    user: str
    secret: str
    expires_at: datetime | None


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise OrderhubError(
            f"{name!r} is not a user name: 1 to 64 letters, digits, '.', '_', '-' or '@'"
        )
    return name


def _role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise OrderhubError(f"{value!r} is not a role; choose {roles}") from None


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise OrderhubError("a password needs at least 10 characters")
    if len(password) > 1000:
        raise OrderhubError("a password may have at most 1000 characters")


def user_principal(user: UserRecord, *, via: str) -> Principal:
    """The identity a user acts with."""
    return Principal(user.name, user.role, frozenset(user.shops), via=via)


def create_user(
    hub: Hub,
    name: str,
    role: str | Role,
    *,
    actor: Principal,
    shops: tuple[str, ...] = (),
    password: str | None = None,
) -> tuple[UserRecord, str | None]:
    """Add a person; returns the user and, when no password was given, the one made up."""
    name, chosen = _check_name(name), _role(role)
    made_up = None
    if password is None:
        made_up = password = secrets.token_urlsafe(15)
    _check_password(password)
    now = datetime.now(UTC)
    with hub.uow() as uow:
        if uow.people.find_user(name) is not None:
            raise OrderhubError(f"a user named {name!r} exists already")
        known = {shop.code for shop in uow.catalog.shops()}
        unknown = sorted(set(shops) - known)
        if unknown:
            raise OrderhubError(
                f"no shop {', '.join(unknown)}: a user can be limited to {sorted(known)}"
            )
        uow.people.add_user(name, chosen, tuple(shops), _hasher.hash(password), now)
        record(
            uow,
            actor,
            "user.create",
            f"user:{name}",
            after={"role": chosen.value, "shops": list(shops), "password": "set"},
        )
        uow.commit()
    with hub.reader() as uow:
        user = uow.people.user(name)
    return user, made_up


def set_user(
    hub: Hub,
    name: str,
    *,
    actor: Principal,
    role: str | None = None,
    shops: tuple[str, ...] | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> UserRecord:
    """Change a person's role, scope, password or whether they may sign in."""
    with hub.uow() as uow:
        user = uow.people.user(name)
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        changes: dict[str, object] = {}
        if role is not None and _role(role) != user.role:
            before["role"], after["role"] = user.role.value, _role(role).value
            changes["role"] = _role(role)
        if shops is not None and tuple(shops) != user.shops:
            before["shops"], after["shops"] = list(user.shops), list(shops)
            changes["shops"] = tuple(shops)
        if disabled is not None and disabled != user.disabled:
            before["disabled"], after["disabled"] = user.disabled, disabled
            changes["disabled"] = int(disabled)
        if password is not None:
            _check_password(password)
            after["password"] = "changed"
            changes.update(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None)
        if changes:
            uow.people.change_user(user.id, **changes)
            record(uow, actor, "user.change", f"user:{name}", before=before, after=after)
            uow.commit()
    with hub.reader() as uow:
        return uow.people.user(name)


def list_users(hub: Hub) -> list[UserRecord]:
    with hub.reader() as uow:
        return uow.people.users()


def authenticate(hub: Hub, name: str, password: str) -> Principal:
    """The person who signs in with this name and password; AccessDenied otherwise.

    The same sentence is given for an unknown name and a wrong password, so names
    cannot be probed; a locked account says until when.
    """
    now = datetime.now(UTC)
    with hub.uow() as uow:
        user = uow.people.find_user(name.strip())
        if user is None or user.disabled or not user.password_hash:
            raise AccessDenied("the name or password is wrong")
        if user.locked_until is not None and user.locked_until > now:
            raise AccessDenied(
                f"too many failed sign-ins: the account is locked until "
                f"{user.locked_until.isoformat(timespec='seconds')}"
            )
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            failures = user.failed_logins + 1
            locked = now + timedelta(seconds=LOCKOUT_SECONDS) if failures >= LOCKOUT_AFTER else None
            uow.people.change_user(
                user.id, failed_logins=0 if locked else failures, locked_until=locked
            )
            if locked is not None:
                record(
                    uow,
                    Principal(user.name, user.role, via="password"),
                    "user.locked",
                    f"user:{user.name}",
                    detail=f"{failures} failed sign-ins in a row",
                )
            uow.commit()
            raise AccessDenied("the name or password is wrong") from None
        if user.failed_logins or user.locked_until is not None:
            uow.people.change_user(user.id, failed_logins=0, locked_until=None)
            uow.commit()
        return user_principal(user, via="password")


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m` → a timedelta; one plain sentence otherwise."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dhm])\s*", text)
    if not match:
        raise OrderhubError(f"{text!r} is not a duration like 30d, 12h or 90m")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "m": timedelta(minutes=amount),
    }[unit]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def create_token(
    hub: Hub,
    user_name: str,
    *,
    actor: Principal,
    name: str = "",
    expires_in: timedelta | None = None,
) -> NewToken:
    """A new personal token for `user_name`; its secret is returned once."""
    now = datetime.now(UTC)
    secret = "oh_" + secrets.token_urlsafe(32)
    token_id = new_id("t")
    expires_at = now + expires_in if expires_in is not None else None
    with hub.uow() as uow:
        user = uow.people.user(user_name)
        uow.people.add_token(token_id, user.id, name[:100], _digest(secret), now, expires_at)
        record(
            uow,
            actor,
            "token.create",
            f"token:{token_id}",
            after={"user": user.name, "name": name, "expires_at": expires_at, "secret": "set"},
        )
        uow.commit()
    return NewToken(token_id, user_name, secret, expires_at)


def list_tokens(hub: Hub, user_name: str | None = None) -> list[TokenRecord]:
    with hub.reader() as uow:
        user_id = uow.people.user(user_name).id if user_name else None
        return uow.people.tokens(user_id)


def revoke_token(hub: Hub, token_id: str, *, actor: Principal) -> TokenRecord:
    """Take a token's access away at once; revoking twice changes nothing."""
    now = datetime.now(UTC)
    with hub.uow() as uow:
        token = uow.people.token(token_id)
        if token.revoked_at is None:
            uow.people.revoke_token(token_id, now)
            record(uow, actor, "token.revoke", f"token:{token_id}", detail=f"of {token.user}")
            uow.commit()
    with hub.reader() as uow:
        return uow.people.token(token_id)


def principal_for_token(hub: Hub, secret: str) -> Principal:
    """Who a bearer token belongs to; AccessDenied when it is unknown, expired or revoked."""
    if not secret.startswith("oh_") or len(secret) > 200:
        raise AccessDenied("the token is not valid")
    now = datetime.now(UTC)
    with hub.reader() as uow:
        found = uow.people.token_by_hash(_digest(secret))
    if found is None:
        raise AccessDenied("the token is not valid")
    token, user = found
    if token.revoked_at is not None:
        raise AccessDenied("the token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise AccessDenied("the token has expired")
    if user.disabled:
        raise AccessDenied(f"the user {user.name} is disabled")
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_EVERY:
        with hub.uow() as uow:
            uow.people.token_used(token.id, now)
            uow.commit()
    return user_principal(user, via=f"token:{token.id}")
