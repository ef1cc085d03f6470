"""A seller's rule sets, every version kept: drafts, the one active version, retired ones."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from orderhub.domain.errors import NotFound
from orderhub.domain.rules import RuleSet
from orderhub.store import tables as t
from orderhub.store.config_version import ConfigView

__all__ = ["RuleSetVersion", "RulesRepo"]


@dataclass(frozen=True)
class RuleSetVersion:
    """One stored version of a rule set; versions never change once written."""

    name: str
    version: int
    status: str  # draft | active | retired
    rule_set: RuleSet
    created_at: datetime
    activated_at: datetime | None


class RulesRepo:
    """Rule sets of one seller; at most one version of each name is active."""

    def __init__(self, conn: Connection, tenant: str, config: ConfigView) -> None:
        self.conn = conn
        self.tenant = tenant
        self.config = config

    def add_version(self, rule_set: RuleSet) -> int:
        """Store `rule_set` as the next version of its name, as a draft; that version."""
        c = t.rule_sets.c
        latest = self.conn.execute(
            select(func.max(c.version)).where(c.tenant == self.tenant, c.name == rule_set.name)
        ).scalar()
        version = int(latest or 0) + 1
        self.conn.execute(
            insert(t.rule_sets).values(
                tenant=self.tenant,
                name=rule_set.name,
                version=version,
                body=json.dumps(rule_set.model_dump(mode="json"), ensure_ascii=False),
                status="draft",
                created_at=datetime.now(UTC),
            )
        )
        return version

    def activate(self, name: str, version: int) -> None:
        """Make `version` the active one of `name`; the version active before is retired."""
        c = t.rule_sets.c
        target = self.get(name, version)
        if target.status == "active":
            return
        self.config.changed()
        self.conn.execute(
            update(t.rule_sets)
            .where(c.tenant == self.tenant, c.name == name, c.status == "active")
            .values(status="retired")
        )
        self.conn.execute(
            update(t.rule_sets)
            .where(c.tenant == self.tenant, c.name == name, c.version == version)
            .values(status="active", activated_at=datetime.now(UTC))
        )

    def active_versions(self) -> list[tuple[str, int]]:
        """(name, version) of every active rule set, in name order; no bodies read."""
        c = t.rule_sets.c
        rows = self.conn.execute(
            select(c.name, c.version)
            .where(c.tenant == self.tenant, c.status == "active")
            .order_by(c.name)
        )
        return [(r.name, int(r.version)) for r in rows]

    def active(self) -> list[tuple[RuleSet, int]]:
        """Every active rule set with its version, in name order."""
        c = t.rule_sets.c
        rows = self.conn.execute(
            select(t.rule_sets)
            .where(c.tenant == self.tenant, c.status == "active")
            .order_by(c.name)
        )
        return [(_rule_set(r), int(r.version)) for r in rows]

    def get(self, name: str, version: int | None = None) -> RuleSetVersion:
        """One version of `name` (the latest when `version` is None)."""
        c = t.rule_sets.c
        query = select(t.rule_sets).where(c.tenant == self.tenant, c.name == name)
        if version is None:
            query = query.order_by(c.version.desc()).limit(1)
        else:
            query = query.where(c.version == version)
        row = self.conn.execute(query).first()
        if row is None:
            raise NotFound("rule set", name if version is None else f"{name} v{version}")
        return _version(row)

    def versions(self, name: str) -> list[RuleSetVersion]:
        """Every version of `name`, oldest first."""
        c = t.rule_sets.c
        rows = self.conn.execute(
            select(t.rule_sets).where(c.tenant == self.tenant, c.name == name).order_by(c.version)
        )
        return [_version(r) for r in rows]

    def names(self) -> list[str]:
        c = t.rule_sets.c
        rows = self.conn.execute(
            select(c.name).where(c.tenant == self.tenant).distinct().order_by(c.name)
        )
        return [r.name for r in rows]


def _rule_set(row: Row[Any]) -> RuleSet:
    return RuleSet.model_validate_json(row.body)


def _version(row: Row[Any]) -> RuleSetVersion:
    return RuleSetVersion(
        name=row.name,
        version=int(row.version),
        status=row.status,
        rule_set=_rule_set(row),
        created_at=row.created_at,
        activated_at=row.activated_at,
    )
