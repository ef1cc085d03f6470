"""What a parcel crossing a border must declare, and the check made before it is sent.

An overseas warehouse or a cross-border carrier refuses a parcel without an HS code, a
customs description, a declared value, a receiver written in Latin script or, for the
EU and the UK, the seller's IOSS or VAT number. Refused after the push, the order sits
at the warehouse's door; checked before it, a person sees which field is missing and
fixes it while the order still waits in the hub.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orderhub.domain.errors import Problem
from orderhub.domain.order import Address, Order

__all__ = [
    "EU_COUNTRIES",
    "NodeCustoms",
    "ShopCustoms",
    "check_customs",
    "crosses_border",
    "declared_unit_value",
    "fill_customs",
    "is_latin",
    "latin_receiver",
    "shipping_method_for",
]

EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
"""Where the seller's IOSS number clears low-value parcels (EU member states)."""

TaxId = Literal["ioss", "vat"]
_DEFAULT_TAX_IDS: dict[str, TaxId] = {
    **dict.fromkeys(sorted(EU_COUNTRIES), "ioss"),
    "GB": "vat",
    "NO": "vat",
}


class NodeCustoms(BaseModel):
    """A node's customs settings, under the node's `customs:` in the config file.

    `required`: `auto` declares customs when the receiver's country differs from the
    node's, `always` for every parcel (a cross-border carrier from China), `never` for
    none; unset, the node's platform decides (overseas warehouses `auto`, others `never`:
    a domestic WMS has no customs fields to send).

    `shipping_methods` maps a destination country (or `*`) to the node's shipping method
    code; when it is set, a destination it does not cover is held before the push.
    `tax_ids` maps a destination country to the tax number it needs (`ioss` or `vat`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: Literal["auto", "always", "never"] | None = None
    shipping_methods: dict[str, str] = Field(default_factory=dict)
    tax_ids: dict[str, TaxId] = Field(default_factory=lambda: dict(_DEFAULT_TAX_IDS))


class ShopCustoms(BaseModel):
    """The seller's tax numbers a shop's parcels declare, under the shop's `customs:`.

    `vat_numbers` is per destination country (`GB: GB123456789`). A marketplace that
    collects the tax itself gives its own numbers here (Amazon's IOSS for the EU).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ioss_number: str = Field(default="", max_length=40)
    vat_numbers: dict[str, str] = Field(default_factory=dict)


def crosses_border(
    order: Order, node_country: str, customs: NodeCustoms, *, overseas: bool = True
) -> bool:
    """Whether parcels of this order from this node declare customs; `overseas` is the
    platform's default when the node does not say."""
    required = customs.required or ("auto" if overseas else "never")
    if required != "auto":
        return required == "always"
    destination = order.receiver.country.upper()
    return bool(node_country and destination) and node_country.upper() != destination


def shipping_method_for(customs: NodeCustoms, country: str) -> str | None:
    """The node's shipping method to `country`; "" when the node keeps its own default
    (no table), None when the table has no entry for it."""
    if not customs.shipping_methods:
        return ""
    methods = customs.shipping_methods
    return methods.get(country.upper(), methods.get("*"))


def is_latin(text: str) -> bool:
    """Every letter is Latin (accents allowed: "Müller", "Dupré"); digits and signs pass."""
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def latin_receiver(order: Order) -> Address:
    """The receiver a label abroad is printed with: the Latin-script one a person or the
    channel gave, else the receiver as it came."""
    return order.receiver_latin if order.receiver_latin is not None else order.receiver


def declared_unit_value(order: Order, line_index: int) -> tuple[Decimal, str]:
    """What one unit of a line declares, and in which currency: its own declared value,
    else the price the buyer paid."""
    line = order.lines[line_index]
    if line.declared_value is not None:
        return line.declared_value, line.declared_currency or order.currency
    return line.unit_price, order.currency


def fill_customs(
    order: Order,
    *,
    skus: dict[str, tuple[str, str, str]],
    shop: ShopCustoms,
) -> None:
    """Take each line's HS code, customs description and origin from the catalogue (SKU
    → those three; the catalogue is the seller's word, so a correction there applies on
    the next try), keeping what the channel sent where the catalogue has nothing, and
    the shop's tax numbers where the order has none."""
    for line in order.lines:
        hs_code, description, origin = skus.get(line.sku or "", ("", "", ""))
        line.hs_code = hs_code or line.hs_code
        line.customs_description = description or line.customs_description
        line.origin_country = origin or line.origin_country
    destination = order.receiver.country.upper()
    order.customs.ioss_number = order.customs.ioss_number or shop.ioss_number
    order.customs.vat_number = order.customs.vat_number or shop.vat_numbers.get(destination, "")


def check_customs(
    order: Order, *, node: str, line_ids: Iterable[str], customs: NodeCustoms
) -> list[Problem]:
    """Every customs field the node's part of the order lacks, each naming its field."""
    wanted = set(line_ids)
    problems: list[Problem] = []
    for i, line in enumerate(order.lines):
        if line.line_id not in wanted:
            continue
        name = line.sku or line.channel_sku
        if not line.hs_code.strip():
            problems.append(
                Problem(
                    "missing_customs",
                    f"SKU {name} has no HS code; {node} ships it across a border",
                    f"lines[{i}].hs_code",
                )
            )
        if not line.customs_description.strip():
            problems.append(
                Problem(
                    "missing_customs",
                    f"SKU {name} has no customs description",
                    f"lines[{i}].customs_description",
                )
            )
        elif not is_latin(line.customs_description):
            problems.append(
                Problem(
                    "missing_customs",
                    f"the customs description of SKU {name} must be in Latin script",
                    f"lines[{i}].customs_description",
                )
            )
        value, _ = declared_unit_value(order, i)
        if value <= 0:
            problems.append(
                Problem(
                    "missing_customs",
                    f"line {line.line_id} declares no value",
                    f"lines[{i}].declared_value",
                )
            )
    problems += _receiver_problems(order)
    destination = order.receiver.country.upper()
    needed = customs.tax_ids.get(destination)
    if needed == "ioss" and not order.customs.ioss_number.strip():
        problems.append(
            Problem(
                "missing_customs",
                f"parcels to {destination} need the seller's IOSS number",
                "customs.ioss_number",
            )
        )
    if needed == "vat" and not order.customs.vat_number.strip():
        problems.append(
            Problem(
                "missing_customs",
                f"parcels to {destination} need the seller's VAT number there",
                "customs.vat_number",
            )
        )
    if shipping_method_for(customs, destination) is None:
        problems.append(
            Problem(
                "no_shipping_method",
                f"{node} has no shipping method to {destination}",
                "receiver.country",
            )
        )
    return problems


def _receiver_problems(order: Order) -> list[Problem]:
    r = latin_receiver(order)
    if r.sealed:
        return []
    where = "receiver_latin" if order.receiver_latin is not None else "receiver"
    return [
        Problem(
            "receiver_not_latin",
            f"the receiver's {label} is not in Latin script; add it in Latin letters",
            f"{where}.{name}",
        )
        for name, label in (("name", "name"), ("address1", "street"), ("city", "city"))
        if not is_latin(getattr(r, name))
    ]
