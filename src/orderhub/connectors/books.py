"""What every ERP connector offers the hub: documents booked once, found again, voided.

The hub hands over a document as its kind, our number and a context (the order, the
shop, the shipment, the ERP's own codes); the connector turns the context into the
ERP's model by its mapping file, and makes sure one number gives one document however
often it is asked (an ERP's Save has no idempotency key: the number is written into a
field of the document and looked up first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["DOCUMENT_KINDS", "Booked", "ErpConnector", "ErpDocument"]

DOCUMENT_KINDS = ("sale_order", "outbound", "return", "purchase_order")
"""A sale, a shipment of it, a return of it, and a purchase from a drop-ship supplier."""


@dataclass(frozen=True)
class ErpDocument:
    """One document to book: `our_no` is unique per kind and makes the booking idempotent."""

    kind: str
    our_no: str
    context: Mapping[str, Any]


@dataclass(frozen=True)
class Booked:
    """A document as the ERP holds it."""

    form: str
    bill_id: int
    bill_no: str
    status: str  # the ERP's own status code (K/3 Cloud: Z, A, B, C, D)
    voided: bool = False
    steps: Sequence[str] = field(default=())  # what this call did: saved, submitted, …


class ErpConnector(Protocol):
    """A connected client for one ERP account."""

    platform: str

    def book(self, document: ErpDocument) -> Booked:
        """Create the document unless it exists, then take it as far as configured
        (submitted, audited). Rejected with the ERP's words when it refuses the data."""
        ...

    def find(self, kind: str, our_no: str) -> Booked | None:
        """The document booked under our number, if any."""
        ...

    def void(self, kind: str, our_no: str) -> Booked | None:
        """Take an audited document back and void it; None when it was never booked."""
        ...

    def preview(self, document: ErpDocument) -> dict[str, Any]:
        """The model that `book` would send, for a person checking a mapping."""
        ...

    def close(self) -> None: ...
