"""People and their personal API tokens.

A password is kept only as its argon2 hash (made by the service that checks it); a
token only as its SHA-256, since it is a long random secret that no table of guesses
can reverse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from orderhub.domain.access import Role
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t

__all__ = ["PeopleRepository", "TokenRecord", "UserRecord"]


@dataclass(frozen=True)
class UserRecord:
    """A person who may sign in, with their role and shop scope (empty: every shop)."""

    id: int
    name: str
    role: Role
    shops: tuple[str, ...]
    password_hash: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """A personal API token, by its id; the secret itself is never stored."""

    id: str
    user_id: int
    user: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class PeopleRepository:
    """Users and tokens of one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def add_user(
        self, name: str, role: Role, shops: tuple[str, ...], password_hash: str, now: datetime
    ) -> int:
        result = self.conn.execute(
            insert(t.users)
            .values(
                tenant=self.tenant,
                name=name,
                role=role.value,
                shops=json.dumps(list(shops)),
                password_hash=password_hash,
                created_at=now,
            )
            .returning(t.users.c.id)
        )
        return int(result.scalar_one())

    def user(self, name: str) -> UserRecord:
        found = self.find_user(name)
        if found is None:
            raise NotFound("user", name)
        return found

    def find_user(self, name: str) -> UserRecord | None:
        row = self.conn.execute(
            select(t.users).where(t.users.c.tenant == self.tenant, t.users.c.name == name)
        ).first()
        return None if row is None else _user(row)

    def user_by_id(self, user_id: int) -> UserRecord | None:
        row = self.conn.execute(
            select(t.users).where(t.users.c.tenant == self.tenant, t.users.c.id == user_id)
        ).first()
        return None if row is None else _user(row)

    def users(self) -> list[UserRecord]:
        rows = self.conn.execute(
            select(t.users).where(t.users.c.tenant == self.tenant).order_by(t.users.c.name)
        )
        return [_user(row) for row in rows]

    def count_users(self) -> int:
        query = select(func.count()).select_from(t.users).where(t.users.c.tenant == self.tenant)
        return int(self.conn.execute(query).scalar_one())

    def change_user(self, user_id: int, **values: object) -> None:
        if "shops" in values:
            values["shops"] = json.dumps(list(values["shops"]))  # type: ignore[call-overload]
        if "role" in values and isinstance(values["role"], Role):
            values["role"] = values["role"].value
        self.conn.execute(
            update(t.users)
            .where(t.users.c.tenant == self.tenant, t.users.c.id == user_id)
            .values(**values)
        )

    def add_token(
        self,
        token_id: str,
        user_id: int,
        name: str,
        token_hash: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> None:
        self.conn.execute(
            insert(t.api_tokens).values(
                id=token_id,
                tenant=self.tenant,
                user_id=user_id,
                name=name,
                token_hash=token_hash,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def token_by_hash(self, token_hash: str) -> tuple[TokenRecord, UserRecord] | None:
        row = self.conn.execute(
            select(t.api_tokens, t.users.c.name.label("user"))
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.token_hash == token_hash, t.api_tokens.c.tenant == self.tenant)
        ).first()
        if row is None:
            return None
        user = self.user_by_id(int(row.user_id))
        return (_token(row), user) if user is not None else None

    def tokens(self, user_id: int | None = None) -> list[TokenRecord]:
        query = (
            select(t.api_tokens, t.users.c.name.label("user"))
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.tenant == self.tenant)
            .order_by(t.api_tokens.c.created_at)
        )
        if user_id is not None:
            query = query.where(t.api_tokens.c.user_id == user_id)
        return [_token(row) for row in self.conn.execute(query)]

    def token(self, token_id: str) -> TokenRecord:
        row = self.conn.execute(
            select(t.api_tokens, t.users.c.name.label("user"))
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.tenant == self.tenant, t.api_tokens.c.id == token_id)
        ).first()
        if row is None:
            raise NotFound("token", token_id)
        return _token(row)

    def revoke_token(self, token_id: str, now: datetime) -> None:
        self.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.tenant == self.tenant, t.api_tokens.c.id == token_id)
            .values(revoked_at=now)
        )

    def token_used(self, token_id: str, now: datetime) -> None:
        self.conn.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=now)
        )


def _user(row: object) -> UserRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return UserRecord(
        id=int(r["id"]),
        name=r["name"],
        role=Role(r["role"]),
        shops=tuple(json.loads(r["shops"] or "[]")),
        password_hash=r["password_hash"],
        disabled=bool(r["disabled"]),
        failed_logins=int(r["failed_logins"]),
        locked_until=r["locked_until"],
        created_at=r["created_at"],
    )


def _token(row: object) -> TokenRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return TokenRecord(
        id=r["id"],
        user_id=int(r["user_id"]),
        user=r["user"],
        name=r["name"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        revoked_at=r["revoked_at"],
        last_used_at=r["last_used_at"],
    )
