"""The ERP a seller books into, and the record of every document booked there."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.config_version import ConfigView
from orderhub.store.setups import ConnectionSetUp, open_secrets, read_at
from orderhub.store.text import storable

__all__ = ["BooksRepository", "ErpDocumentRecord", "ErpRecord"]


@dataclass(frozen=True)
class ErpRecord(ConnectionSetUp):
    """An ERP account; `secrets` are clear text only in memory; `mapping` overrides the
    connector's document mapping field by field."""

    code: str
    platform: str
    name: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    mapping: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ErpDocumentRecord:
    """What the hub knows of one document: booked, voided, skipped, or waiting."""

    erp: str
    kind: str
    our_no: str
    order_id: str | None
    form: str
    bill_id: int | None
    bill_no: str
    status: str  # booked | voided | skipped
    erp_status: str
    detail: str
    updated_at: datetime


class BooksRepository:
    """ERP accounts (configuration, cached per version) and booked documents."""

    def __init__(self, conn: Connection, cipher: Cipher, tenant: str, config: ConfigView) -> None:
        self.conn, self.cipher, self.tenant, self.config = conn, cipher, tenant, config

    def put_erp(self, erp: ErpRecord) -> None:
        self.config.changed()
        c = t.erps.c
        values = {
            "platform": erp.platform,
            "name": erp.name,
            "settings": json.dumps(dict(erp.settings), ensure_ascii=False),
            "secrets": self.cipher.encrypt(
                json.dumps(dict(erp.secrets)), context=f"erp:{erp.code}".encode()
            ),
            "mapping": json.dumps(dict(erp.mapping), ensure_ascii=False),
        }
        key = [c.tenant == self.tenant, c.code == erp.code]
        if self.conn.execute(update(t.erps).where(*key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(t.erps).values(
                    tenant=self.tenant, code=erp.code, created_at=datetime.now(UTC), **values
                )
            )

    def erps(self) -> list[ErpRecord]:
        """Every ERP account, from the configuration cache."""
        return self.config.get(("erps", self.tenant), self._load)

    def erp(self, code: str) -> ErpRecord:
        for record in self.erps():
            if record.code == code:
                return record
        raise NotFound("erp", code)

    def _load(self) -> list[ErpRecord]:
        at = self.config.read_at()  # before the rows (`read_at`)
        rows = self.conn.execute(
            select(t.erps).where(t.erps.c.tenant == self.tenant).order_by(t.erps.c.code)
        )
        return [
            read_at(
                ErpRecord(
                    code=row.code,
                    platform=row.platform,
                    name=row.name,
                    settings=json.loads(row.settings),
                    secrets=open_secrets(self.cipher, row.secrets, f"erp:{row.code}"),
                    mapping=json.loads(row.mapping),
                ),
                at,
            )
            for row in rows
        ]

    # -- documents -----------------------------------------------------------------

    def document(self, erp: str, kind: str, our_no: str) -> ErpDocumentRecord | None:
        c = t.erp_documents.c
        row = self.conn.execute(
            select(t.erp_documents).where(
                c.tenant == self.tenant, c.erp == erp, c.kind == kind, c.our_no == our_no
            )
        ).first()
        return None if row is None else _document(row)

    def tally(self, erp: str) -> dict[str, int]:
        """How many documents of this ERP are booked, voided or skipped."""
        c = t.erp_documents.c
        rows = self.conn.execute(
            select(c.status, func.count())
            .where(c.tenant == self.tenant, c.erp == erp)
            .group_by(c.status)
        )
        return {str(status): int(n) for status, n in rows}

    def of_order(self, order_id: str) -> list[ErpDocumentRecord]:
        c = t.erp_documents.c
        rows = self.conn.execute(
            select(t.erp_documents)
            .where(c.tenant == self.tenant, c.order_id == order_id)
            .order_by(c.id)
        )
        return [_document(r) for r in rows]

    def record(
        self,
        *,
        erp: str,
        kind: str,
        our_no: str,
        order_id: str | None,
        status: str,
        form: str = "",
        bill_id: int | None = None,
        bill_no: str = "",
        erp_status: str = "",
        detail: str = "",
    ) -> None:
        """Write down what happened to a document (a second write replaces the first)."""
        c = t.erp_documents.c
        values = {
            "order_id": order_id,
            "form": form,
            "bill_id": bill_id,
            "bill_no": bill_no,
            "status": status,
            "erp_status": erp_status,
            "detail": storable(detail),
            "updated_at": datetime.now(UTC),
        }
        key = [c.tenant == self.tenant, c.erp == erp, c.kind == kind, c.our_no == our_no]
        if self.conn.execute(update(t.erp_documents).where(*key).values(**values)).rowcount:
            return
        self.conn.execute(
            insert(t.erp_documents).values(
                tenant=self.tenant, erp=erp, kind=kind, our_no=our_no, **values
            )
        )


def _document(row: Any) -> ErpDocumentRecord:
    return ErpDocumentRecord(
        erp=row.erp,
        kind=row.kind,
        our_no=row.our_no,
        order_id=row.order_id,
        form=row.form,
        bill_id=row.bill_id,
        bill_no=row.bill_no,
        status=row.status,
        erp_status=row.erp_status,
        detail=row.detail,
        updated_at=row.updated_at,
    )
