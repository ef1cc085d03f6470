"""Trackers (their accounts, cached with the configuration) and the parcels they follow.

A parcel is a tracking number: the orders it carries are the shipments that name it.
Its scans are kept once each (a tracker sends a parcel's whole history every time).
"""

from __future__ import annotations

import hashlib
import json
import secrets as random_secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.domain.tracking import ParcelStatus, TrackingEvent
from orderhub.store import tables as t
from orderhub.store.config_version import ConfigView
from orderhub.store.ids import new_id
from orderhub.store.setups import ConnectionSetUp, open_secrets, read_at
from orderhub.store.text import storable

__all__ = ["Parcel", "ParcelEvent", "ParcelRepository", "TrackerRecord"]


@dataclass(frozen=True)
class TrackerRecord(ConnectionSetUp):
    """A tracker account; `secrets` are clear text only in memory. `settings` may name
    the destination `countries` it serves (none: every destination) and the hours
    without a scan after which a parcel is stuck (`stuck_hours`, per carrier in
    `stuck_hours_by_carrier`)."""

    code: str
    platform: str
    name: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parcel:
    id: str
    tracking_no: str
    carrier: str
    tracker: str
    token: str
    status: str
    city: str
    country: str
    shipped_at: datetime | None
    subscribed_at: datetime | None
    last_event_at: datetime | None
    delivered_at: datetime | None
    finished: bool
    detail: str
    created_at: datetime


@dataclass(frozen=True)
class ParcelEvent:
    at: datetime
    status: str
    description: str
    location: str
    code: str


class ParcelRepository:
    def __init__(self, conn: Connection, cipher: Cipher, tenant: str, config: ConfigView) -> None:
        self.conn, self.cipher, self.tenant, self.config = conn, cipher, tenant, config

    # -- trackers ------------------------------------------------------------------

    def put_tracker(self, tracker: TrackerRecord) -> None:
        self.config.changed()
        c = t.trackers.c
        values = {
            "platform": tracker.platform,
            "name": tracker.name,
            "settings": json.dumps(dict(tracker.settings), ensure_ascii=False),
            "secrets": self.cipher.encrypt(
                json.dumps(dict(tracker.secrets)), context=f"tracker:{tracker.code}".encode()
            ),
        }
        key = [c.tenant == self.tenant, c.code == tracker.code]
        if self.conn.execute(update(t.trackers).where(*key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(t.trackers).values(
                    tenant=self.tenant, code=tracker.code, created_at=datetime.now(UTC), **values
                )
            )

    def trackers(self) -> list[TrackerRecord]:
        return self.config.get(("trackers", self.tenant), self._load)

    def tracker(self, code: str) -> TrackerRecord:
        for record in self.trackers():
            if record.code == code:
                return record
        raise NotFound("tracker", code)

    def _load(self) -> list[TrackerRecord]:
        at = self.config.read_at()  # before the rows (`read_at`)
        c = t.trackers.c
        rows = self.conn.execute(select(t.trackers).where(c.tenant == self.tenant).order_by(c.id))
        return [
            read_at(
                TrackerRecord(
                    code=row.code,
                    platform=row.platform,
                    name=row.name,
                    settings=json.loads(row.settings),
                    secrets=open_secrets(self.cipher, row.secrets, f"tracker:{row.code}"),
                ),
                at,
            )
            for row in rows
        ]

    # -- parcels -------------------------------------------------------------------

    def add(
        self,
        tracking_no: str,
        *,
        carrier: str,
        tracker: str,
        city: str,
        country: str,
        shipped_at: datetime | None,
    ) -> Parcel | None:
        """A new parcel, pending; None when the tracking number is followed already. The
        carrier's words are kept storable, as the shipment they come from keeps them."""
        tracking_no, carrier = storable(tracking_no), storable(carrier)
        if self.by_tracking_no(tracking_no) is not None:
            return None
        now = datetime.now(UTC)
        parcel_id = new_id("pc")
        self.conn.execute(
            insert(t.parcels).values(
                id=parcel_id,
                tenant=self.tenant,
                tracking_no=tracking_no,
                carrier=carrier,
                tracker=tracker,
                token=random_secrets.token_urlsafe(24),
                status=ParcelStatus.PENDING.value,
                city=city[:100],
                country=country[:2],
                shipped_at=shipped_at,
                created_at=now,
                updated_at=now,
            )
        )
        return self.get(parcel_id)

    def get(self, parcel_id: str) -> Parcel:
        row = self.conn.execute(
            select(t.parcels).where(t.parcels.c.tenant == self.tenant, t.parcels.c.id == parcel_id)
        ).first()
        if row is None:
            raise NotFound("parcel", parcel_id)
        return _parcel(row)

    def by_tracking_no(self, tracking_no: str) -> Parcel | None:
        c = t.parcels.c
        row = self.conn.execute(
            select(t.parcels).where(c.tenant == self.tenant, c.tracking_no == storable(tracking_no))
        ).first()
        return None if row is None else _parcel(row)

    def by_token(self, token: str) -> Parcel | None:
        """The parcel behind a buyer's link (whatever the seller: the token is the key)."""
        row = self.conn.execute(select(t.parcels).where(t.parcels.c.token == token)).first()
        return None if row is None else _parcel(row)

    def of_order(self, order_id: str) -> list[Parcel]:
        s, c = t.shipments.c, t.parcels.c
        numbers = select(s.tracking_no).where(s.tenant == self.tenant, s.order_id == order_id)
        rows = self.conn.execute(
            select(t.parcels)
            .where(c.tenant == self.tenant, c.tracking_no.in_(numbers))
            .order_by(c.created_at)
        )
        return [_parcel(r) for r in rows]

    def orders_of(self, tracking_no: str) -> list[str]:
        s = t.shipments.c
        rows = self.conn.execute(
            select(s.order_id)
            .where(s.tenant == self.tenant, s.tracking_no == storable(tracking_no))
            .distinct()
        )
        return sorted(str(r.order_id) for r in rows)

    def subscribed(self, parcel_id: str, *, tracker: str) -> None:
        self._set(parcel_id, subscribed_at=datetime.now(UTC), tracker=tracker)

    def moved(
        self,
        parcel_id: str,
        *,
        status: ParcelStatus,
        last_event_at: datetime | None,
        finished: bool,
        detail: str = "",
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "finished": int(finished)}
        if last_event_at is not None:
            values["last_event_at"] = last_event_at
        if status is ParcelStatus.DELIVERED:
            values["delivered_at"] = last_event_at or datetime.now(UTC)
        if detail:
            values["detail"] = storable(detail)[:500]
        self._set(parcel_id, **values)

    def _set(self, parcel_id: str, **values: Any) -> None:
        c = t.parcels.c
        self.conn.execute(
            update(t.parcels)
            .where(c.tenant == self.tenant, c.id == parcel_id)
            .values(updated_at=datetime.now(UTC), **values)
        )

    def add_events(self, parcel_id: str, events: Sequence[TrackingEvent]) -> list[TrackingEvent]:
        """Keep the scans not kept before; the new ones, oldest first. A carrier's words are
        kept storable."""
        c = t.parcel_events.c
        known = set(
            self.conn.execute(select(c.digest).where(c.parcel_id == parcel_id)).scalars().all()
        )
        new: list[TrackingEvent] = []
        for event in sorted(events, key=lambda e: e.at):
            digest = hashlib.md5(
                f"{event.at.isoformat()}|{event.description}".encode(), usedforsecurity=False
            ).hexdigest()
            if digest in known:
                continue
            known.add(digest)
            self.conn.execute(
                insert(t.parcel_events).values(
                    tenant=self.tenant,
                    parcel_id=parcel_id,
                    at=event.at,
                    status=event.status.value,
                    description=storable(event.description)[:500],
                    location=storable(event.location)[:200],
                    code=storable(event.code)[:40],
                    digest=digest,
                )
            )
            new.append(event)
        return new

    def events(self, parcel_id: str) -> list[ParcelEvent]:
        c = t.parcel_events.c
        rows = self.conn.execute(
            select(c.at, c.status, c.description, c.location, c.code)
            .where(c.parcel_id == parcel_id)
            .order_by(c.at, c.id)
        )
        return [ParcelEvent(r.at, r.status, r.description, r.location, r.code) for r in rows]

    def quiet_since(self, before: datetime, limit: int = 1000) -> list[Parcel]:
        """Parcels still followed whose last scan (or subscription) is older than `before`."""
        c = t.parcels.c
        rows = self.conn.execute(
            select(t.parcels)
            .where(
                c.tenant == self.tenant,
                c.finished == 0,
                c.subscribed_at.is_not(None),
                or_(
                    c.last_event_at < before,
                    (c.last_event_at.is_(None)) & (c.subscribed_at < before),
                ),
            )
            .limit(limit)
        )
        return [_parcel(r) for r in rows]


def _parcel(row: Any) -> Parcel:
    return Parcel(
        id=row.id,
        tracking_no=row.tracking_no,
        carrier=row.carrier,
        tracker=row.tracker,
        token=row.token,
        status=row.status,
        city=row.city,
        country=row.country,
        shipped_at=row.shipped_at,
        subscribed_at=row.subscribed_at,
        last_event_at=row.last_event_at,
        delivered_at=row.delivered_at,
        finished=bool(row.finished),
        detail=row.detail,
        created_at=row.created_at,
    )
