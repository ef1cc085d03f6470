"""Writing and reading the audit log.

Every change a person or token makes, every reveal of personal data and every rule dry
run is recorded in the same transaction as the change, so one is never without the
other. Secrets are never written: a value under a secret-looking key is recorded only
as "set", "changed" or "unchanged".
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from orderhub.domain.access import Principal, Role
from orderhub.domain.errors import NotFound
from orderhub.domain.masking import mask_address, mask_email, mask_name, mask_phone
from orderhub.services.hub import Hub
from orderhub.store.audit import AuditEntry
from orderhub.store.uow import UnitOfWork

__all__ = [
    "cli_principal",
    "connection_snapshot",
    "list_entries",
    "mask_secrets",
    "record",
    "record_change",
    "record_connection_change",
    "secret_changes",
]

_SECRET_WORDS = ("secret", "token", "password", "key")
_MARKERS = frozenset({"set", "changed", "unchanged", "removed"})


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


_PERSONAL = {
    "name": mask_name,
    "phone": mask_phone,
    "mobile": mask_phone,
    "email": mask_email,
    "address1": mask_address,
    "address2": mask_address,
}
_PEOPLE = frozenset({"receiver", "buyer", "receiver_latin"})
_ALWAYS_PERSONAL = frozenset({"phone", "mobile", "email", "address1", "address2"})
"""Masked wherever they appear (a buyer looked up by phone, say), not only in a person."""


def _masked_person(person: Mapping[str, Any]) -> dict[str, Any]:
    # A person inside a person (the receiver written in Latin script) is one too.
    return {
        k: _PERSONAL[k](v)
        if k in _PERSONAL and isinstance(v, str)
        else _masked_person(v)
        if isinstance(v, Mapping)
        else mask_secrets(v)
        for k, v in person.items()
    }


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret-looking entry replaced by "set", and a
    receiver's or buyer's name, phone, e-mail and street masked as screens mask them."""
    if isinstance(value, Mapping):
        return {
            k: (
                "set"
                if _is_secret(str(k))
                and v not in (None, "")
                and not (isinstance(v, str) and v in _MARKERS)
                else _masked_person(v)
                if str(k) in _PEOPLE and isinstance(v, Mapping)
                else _PERSONAL[str(k)](v)
                if str(k) in _ALWAYS_PERSONAL and isinstance(v, str)
                else mask_secrets(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def secret_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, str]:
    """For each secret: "changed", "unchanged", "set" (new) or "removed"."""
    result = {}
    for name in sorted(set(before) | set(after)):
        if name not in before:
            result[name] = "set"
        elif name not in after:
            result[name] = "removed"
        else:
            result[name] = "changed" if before[name] != after[name] else "unchanged"
    return result


def record(
    uow: UnitOfWork,
    actor: Principal,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    detail: str = "",
) -> None:
    """Add one entry in the caller's transaction; secrets are masked."""
    uow.audit.add(
        at=datetime.now(UTC),
        actor=actor.name,
        via=actor.via,
        action=action,
        target=target,
        before=mask_secrets(before),
        after=mask_secrets(after),
        detail=detail,
    )


def list_entries(
    hub: Hub,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first, filtered; `before_id` pages on."""
    with hub.reader() as uow:
        return uow.audit.entries(
            actor=actor,
            action=action,
            target=target,
            since=since,
            before_id=before_id,
            limit=max(1, min(limit, 1000)),
        )


def cli_principal() -> Principal:
    """Whoever runs the command line on the server acts as an owner, named by their login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Principal(f"cli:{login}", Role.OWNER, via="cli")


def record_change(
    hub: Hub,
    actor: Principal,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    detail: str = "",
) -> None:
    """One entry in a transaction of its own, for changes made by entry points."""
    with hub.uow() as uow:
        record(uow, actor, action, target, before=before, after=after, detail=detail)
        uow.commit()


def connection_snapshot(hub: Hub, kind: str, code: str) -> dict[str, Any] | None:
    """A shop's or node's settings as stored, secrets included (in memory only)."""
    with hub.reader() as uow:
        try:
            found: Any = uow.catalog.shop(code) if kind == "shop" else uow.catalog.node(code)
        except NotFound:
            return None
    return json.loads(json.dumps(asdict(found), default=str))  # type: ignore[no-any-return]


def record_connection_change(
    hub: Hub,
    actor: Principal,
    kind: str,
    code: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Before and after of a shop or node; each secret only as set/changed/unchanged."""
    old = dict(before or {})
    new = dict(after or {})
    credentials = secret_changes(old.pop("secrets", {}) or {}, new.pop("secrets", {}) or {})
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    record_change(
        hub,
        actor,
        f"{kind}.{'change' if before else 'create'}",
        f"{kind}:{code}",
        before={k: old.get(k) for k in changed} if before else None,
        after={**changed, "credentials": credentials},
    )
