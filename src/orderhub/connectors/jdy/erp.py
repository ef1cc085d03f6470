"""Booking into 金蝶云星辰: one bill per number, looked up before it is saved.

Save has no idempotency key, so our number is written into the bill, as its `bill_no`
(the default) or into its `remark` (`key_field: remark`, for a tenant that numbers bills
itself), and every booking first lists bills searched by it. A worker that died after
the save therefore finds its bill the next time; none is saved twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import Rejected
from ..books import Booked, ErpDocument
from ..k3cloud.documents import DocumentMapping
from .client import JdyClient

__all__ = ["FORMS", "JdyErp"]

FORMS = {"sale_order": "sal_order", "outbound": "sal_out_bound"}
"""The hub's document kinds and the API's bills (`/jdy/v2/scm/<bill>`)."""

_MARK = "orderhub#"


class JdyErp:
    """The ERP connector for one 云星辰 tenant."""

    platform = "jdy"

    def __init__(
        self, client: JdyClient, mappings: Mapping[str, DocumentMapping], *, key_field: str
    ) -> None:
        self.client = client
        self.mappings = mappings
        self.key_field = key_field

    def _form(self, kind: str) -> str:
        form = FORMS.get(kind)
        if form is None or kind not in self.mappings:
            raise Rejected(f"jdy books no {kind!r} documents; it books {', '.join(FORMS)}")
        return form

    def preview(self, document: ErpDocument) -> dict[str, Any]:
        self._form(document.kind)
        try:
            model = self.mappings[document.kind].model(document.context)
        except ValueError as exc:
            raise Rejected(f"the {document.kind} mapping failed at {exc}") from exc
        if isinstance(model.get("bill_date"), str):
            model["bill_date"] = model["bill_date"][:10]  # the API takes yyyy-MM-dd
        if self.key_field == "bill_no":
            model["bill_no"] = document.our_no
        else:
            model["remark"] = f"{_MARK}{document.our_no} {model.get('remark') or ''}".strip()
        return model

    def _holds(self, row: Mapping[str, Any], our_no: str) -> bool:
        if self.key_field == "bill_no":
            return str(row.get("bill_no")) == our_no
        return f"{_MARK}{our_no}" in str(row.get("remark") or "").split(" ")

    def find(self, kind: str, our_no: str) -> Booked | None:
        form = self._form(kind)
        search = our_no if self.key_field == "bill_no" else f"{_MARK}{our_no}"
        page = 1
        while True:
            data = self.client.call(
                "GET",
                f"/jdy/v2/scm/{form}",
                query={"search": search, "page": str(page), "page_size": "100"},
            )
            rows = data.get("rows") if isinstance(data, dict) else None
            for row in rows or []:
                if isinstance(row, dict) and self._holds(row, our_no):
                    return Booked(
                        form,
                        int(row.get("id") or 0),
                        str(row.get("bill_no")),
                        str(row.get("bill_status") or ""),
                    )
            if not isinstance(data, dict) or page >= int(data.get("total_page") or 1):
                return None
            page += 1

    def book(self, document: ErpDocument) -> Booked:
        form = self._form(document.kind)
        found = self.find(document.kind, document.our_no)
        if found is not None:
            return found
        self.client.call("POST", f"/jdy/v2/scm/{form}", body=self.preview(document))
        saved = self.find(document.kind, document.our_no)
        if saved is None:
            raise Rejected(f"jdy saved {form} {document.our_no} but does not list it")
        return Booked(form, saved.bill_id, saved.bill_no, saved.status, steps=("saved",))

    def void(self, kind: str, our_no: str) -> Booked | None:
        found = self.find(kind, our_no)
        if found is None:
            return None
        raise Rejected(
            f"jdy bill {found.bill_no} cannot be voided from orderhub: the open API calls it "
            "uses have no delete or un-audit; void it in 云星辰 itself"
        )

    def close(self) -> None:
        self.client.close()
