"""Personal data over time: re-encrypting old rows with the current key, and purging what
is kept longer than it is needed.

Each function does one bounded batch in the caller's transaction and says how many rows
it changed, so a caller loops until nothing is left without ever holding a long lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from orderhub.crypto import Cipher, is_sealed
from orderhub.domain.masking import mask_address, mask_email, mask_name, mask_phone
from orderhub.store import tables as t
from orderhub.store.order_search import phone_tail
from orderhub.store.orders import PII_RECEIVER

__all__ = ["CLOSED", "KeepingRepository"]

CLOSED = ("completed", "cancelled", "returned")
"""Order states after which nothing more is shipped, so addresses are no longer needed."""


def _stars(value: str) -> str:
    return "*" * len(value)


_MASKERS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address1": mask_address,
    "address2": mask_address,
    "postcode": _stars,
    "sealed": lambda _: "",
    "open_id": lambda _: "",
}


def _masked(pii: dict[str, Any]) -> dict[str, Any]:
    """What the books keep of a buyer: masked name, phone and street; region unchanged."""
    return {
        part: {
            key: _MASKERS[key](value) if key in _MASKERS and isinstance(value, str) else value
            for key, value in (pii.get(part) or {}).items()
        }
        for part in ("buyer", "receiver")
    }


class KeepingRepository:
    """Re-keying and retention for one seller."""

    def __init__(self, conn: Connection, cipher: Cipher, tenant: str) -> None:
        self.conn = conn
        self.cipher = cipher
        self.tenant = tenant

    def _current_prefix(self) -> str:
        return f"v1:{self.cipher.current}:"

    def rekey_orders(self, limit: int = 500) -> int:
        """Orders whose personal data another key sealed, sealed again with the current one."""
        c = t.orders.c
        rows = self.conn.execute(
            select(c.id, c.pii, c.phone_tail)
            .where(c.tenant == self.tenant, ~c.pii.startswith(self._current_prefix()))
            .limit(limit)
        ).all()
        for row in rows:
            context = row.id.encode()
            clear = self.cipher.decrypt(row.pii, context=context)
            self.conn.execute(
                update(t.orders)
                .where(c.id == row.id)
                .values(
                    pii=self.cipher.encrypt(clear, context=context),
                    # The hash is keyed too; a purged order ("") stays unfindable.
                    phone_tail="" if row.phone_tail == "" else self._phone_tail(clear),
                )
            )
        return len(rows)

    def _phone_tail(self, pii: str) -> str:
        receiver = json.loads(pii).get("receiver") or {}
        return phone_tail(self.cipher, str(receiver.get("phone") or ""))

    def index_phone_tails(self, limit: int = 500) -> int:
        """Orders stored before phones were indexed (or under another key): their phone's
        last four digits hashed, so a person finds them by those digits too."""
        c = t.orders.c
        rows = self.conn.execute(
            select(c.id, c.pii).where(c.tenant == self.tenant, c.phone_tail.is_(None)).limit(limit)
        ).all()
        for row in rows:
            clear = self.cipher.decrypt(row.pii, context=row.id.encode()) if row.pii else "{}"
            self.conn.execute(
                update(t.orders).where(c.id == row.id).values(phone_tail=self._phone_tail(clear))
            )
        return len(rows)

    def rekey_inbox(self, limit: int = 500) -> int:
        """Raw payloads stored in clear or under another key, sealed with the current one."""
        c = t.inbox.c
        current = f"ohv1:{self.cipher.current}:".encode()
        rows = self.conn.execute(
            select(c.id, c.body)
            .where(
                c.tenant == self.tenant,
                func.substr(c.body, 1, len(current)) != current,
                func.length(c.body) > 0,
            )
            .limit(limit)
        ).all()
        for row in rows:
            context = f"inbox:{row.id}".encode()
            body = bytes(row.body)
            clear = self.cipher.unseal(body, context=context) if is_sealed(body) else body
            self.conn.execute(
                update(t.inbox)
                .where(c.id == row.id)
                .values(body=self.cipher.seal(clear, context=context))
            )
        return len(rows)

    def rekey_connections(self) -> int:
        """Shops' and nodes' secrets sealed again with the current key."""
        changed = 0
        for table, kind in ((t.shops, "shop"), (t.nodes, "node")):
            rows = self.conn.execute(
                select(table.c.id, table.c.code, table.c.secrets).where(
                    table.c.tenant == self.tenant,
                    table.c.secrets != "",
                    ~table.c.secrets.startswith(self._current_prefix()),
                )
            ).all()
            for row in rows:
                context = f"{kind}:{row.code}".encode()
                clear = self.cipher.decrypt(row.secrets, context=context)
                self.conn.execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values(secrets=self.cipher.encrypt(clear, context=context))
                )
                changed += 1
        return changed

    def purge_orders(self, before: datetime, limit: int = 500) -> list[str]:
        """Closed orders last changed before `before`: personal data replaced by its mask.

        Returns the ids changed; an order already purged is not counted again.
        """
        c = t.orders.c
        rows = self.conn.execute(
            select(c.id, c.pii, c.document)
            .where(
                c.tenant == self.tenant,
                c.status.in_(CLOSED),
                c.updated_at < before,
                ~c.document.contains('"personal_data_purged": true'),
            )
            .order_by(c.updated_at)
            .limit(limit)
        ).all()
        for row in rows:
            context = row.id.encode()
            pii = json.loads(self.cipher.decrypt(row.pii, context=context))
            document = json.loads(row.document)
            document["personal_data_purged"] = True
            self.conn.execute(
                update(t.orders)
                .where(c.id == row.id)
                .values(
                    pii=self.cipher.encrypt(
                        json.dumps(_masked(pii), ensure_ascii=False), context=context
                    ),
                    document=json.dumps(document, ensure_ascii=False),
                    buyer_key=None,
                    phone_tail="",
                )
            )
        return [row.id for row in rows]

    def erase_orders(self, order_ids: list[str]) -> int:
        """The buyer asked to be forgotten: every personal field of these orders is
        emptied (not masked), and the raw payloads they came in lose their body; how many
        payloads were destroyed. Amounts, SKUs, dates and statuses stay."""
        if not order_ids:
            return 0
        c, i = t.orders.c, t.inbox.c
        rows = self.conn.execute(select(c.id, c.document).where(c.id.in_(order_ids))).all()
        for row in rows:
            document = json.loads(row.document)
            document["personal_data_purged"] = True
            remarks = document.get("remarks") or {}
            document["remarks"] = {"buyer": "", "seller": remarks.get("seller", "")}
            receiver = document.get("receiver") or {}
            receiver.update(postcode="", town="")
            document["receiver"] = receiver
            empty: dict[str, dict[str, str]] = {
                "buyer": {"name": "", "email": "", "phone": "", "open_id": ""},
                "receiver": {key: "" for key in PII_RECEIVER},
            }
            self.conn.execute(
                update(t.orders)
                .where(c.id == row.id)
                .values(
                    pii=self.cipher.encrypt(json.dumps(empty), context=row.id.encode()),
                    document=json.dumps(document, ensure_ascii=False),
                    buyer_key=None,
                    phone_tail="",
                )
            )
        destroyed = self.conn.execute(
            update(t.inbox)
            .where(i.tenant == self.tenant, i.order_id.in_(order_ids), func.length(i.body) > 0)
            .values(body=b"", headers="{}")
        )
        return int(destroyed.rowcount or 0)

    def purge_payloads(self, before: datetime, limit: int = 500) -> int:
        """Raw payloads received before `before` whose order is closed (or that never became
        an order) lose their body; the row stays, so a late repeat is still recognised."""
        i, o = t.inbox.c, t.orders.c
        closed = select(o.id).where(o.tenant == self.tenant, o.status.in_(CLOSED))
        rows = self.conn.execute(
            select(i.id)
            .where(
                i.tenant == self.tenant,
                i.received_at < before,
                func.length(i.body) > 0,
                or_(
                    and_(i.order_id.is_(None), i.status != "pending"),
                    i.order_id.in_(closed),
                ),
            )
            .limit(limit)
        ).all()
        ids = [row.id for row in rows]
        if ids:
            self.conn.execute(update(t.inbox).where(i.id.in_(ids)).values(body=b"", headers="{}"))
        return len(ids)
