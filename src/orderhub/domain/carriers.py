"""Carrier codes as warehouses send them (Qimen logisticsCode) and the names shops show."""

from __future__ import annotations

__all__ = ["CARRIER_NAMES", "carrier_name"]

CARRIER_NAMES: dict[str, str] = {
    "SF": "SF Express",
    "EMS": "China Post",
    "EYB": "China Post",
    "POSTB": "China Post",
    "ZJS": "ZJS Express",
    "YTO": "YTO Express",
    "ZTO": "ZTO Express",
    "HTKY": "Best Express",
    "STO": "STO Express",
    "YUNDA": "Yunda Express",
    "JD": "JD Logistics",
    "DD": "Dada",
    "UC": "UC Express",
    "TTKDEX": "TTK Express",
    "QFKD": "Quanfeng Express",
    "FAST": "Fast Express",
    "GTO": "GTO Express",
    "DHL": "DHL Express",
    "UPS": "UPS",
    "FEDEX": "FedEx",
    "USPS": "USPS",
}


def carrier_name(code: str) -> str:
    """The display name for a carrier code; unknown codes pass through unchanged."""
    return CARRIER_NAMES.get(code.upper(), code)
