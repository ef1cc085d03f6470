"""Booking into K/3 Cloud: one document per number, taken as far as the seller wants it.

Save has no idempotency key, so our number is written into a text field the seller adds
to each form (`key_field`) and every booking first asks the ERP for a document holding
it. A worker that died after Save and before Submit therefore finds its own document
the next time and only goes on from where it stopped; none is saved twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import Rejected
from ..books import Booked, ErpDocument
from .client import K3CloudClient
from .consts import FORMS, STATUS_AUDITED, STATUS_SUBMITTED
from .documents import DocumentMapping

__all__ = ["K3CloudErp"]

_FIND_KEYS = "FID,FBillNo,FDocumentStatus,FCancelStatus"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class K3CloudErp:
    """The ERP connector for one 账套."""

    platform = "k3cloud"

    def __init__(
        self,
        client: K3CloudClient,
        mappings: Mapping[str, DocumentMapping],
        *,
        key_field: str,
        submit: bool = True,
        audit: bool = True,
    ) -> None:
        self.client = client
        self.mappings = mappings
        self.key_field = key_field
        self.submit, self.audit = submit, audit

    def preview(self, document: ErpDocument) -> dict[str, Any]:
        mapping = self.mappings.get(document.kind)
        if mapping is None:
            raise Rejected(f"k3cloud books no {document.kind!r} documents")
        try:
            model = mapping.model(document.context)
        except ValueError as exc:
            raise Rejected(f"the {document.kind} mapping failed at {exc}") from exc
        model[self.key_field] = document.our_no
        return model

    def find(self, kind: str, our_no: str) -> Booked | None:
        form = FORMS[kind]
        rows = self.client.query(
            {
                "FormId": form,
                "FieldKeys": _FIND_KEYS,
                "FilterString": f"{self.key_field} = {_quoted(our_no)}",
                "OrderString": "FID ASC",
                "TopRowCount": 0,
                "StartRow": 0,
                "Limit": 10,
            }
        )
        if not rows:
            return None
        bill_id, bill_no, status, cancel = rows[0][:4]
        return Booked(form, int(bill_id), str(bill_no), str(status), voided=cancel == "B")

    def book(self, document: ErpDocument) -> Booked:
        form = FORMS[document.kind]
        found = self.find(document.kind, document.our_no)
        steps: list[str] = []
        if found is None:
            result = self.client.operation(
                "Save",
                form,
                {
                    "Model": self.preview(document),
                    "NeedReturnFields": ["FBillNo"],
                    "IsDeleteEntry": "true",
                },
            )
            found = Booked(form, int(result["Id"]), str(result["Number"]), "A")
            steps.append("saved")
        if found.voided:
            return found
        status = found.status
        if self.submit and status in ("A", "Z", "D"):
            self._operate("Submit", found)
            status, steps = STATUS_SUBMITTED, [*steps, "submitted"]
        if self.submit and self.audit and status == STATUS_SUBMITTED:
            self._operate("Audit", found)
            status, steps = STATUS_AUDITED, [*steps, "audited"]
        return Booked(form, found.bill_id, found.bill_no, status, steps=tuple(steps))

    def void(self, kind: str, our_no: str) -> Booked | None:
        found = self.find(kind, our_no)
        if found is None or found.voided:
            return found
        status = found.status
        steps: list[str] = []
        if status == STATUS_AUDITED:
            self._operate("UnAudit", found)
            status, steps = "D", ["unaudited"]
        elif status == STATUS_SUBMITTED:
            # Still in approval: the submission is withdrawn (撤销) first.
            self._operate("CancelAssign", found)
            status, steps = "A", ["withdrawn"]
        self.client.execute(found.form, "Cancel", {"Ids": str(found.bill_id)})
        return Booked(found.form, found.bill_id, found.bill_no, status, True, (*steps, "voided"))

    def _operate(self, method: str, booked: Booked) -> None:
        self.client.operation(method, booked.form, {"Ids": str(booked.bill_id), "Numbers": []})

    def close(self) -> None:
        self.client.transport.close()
