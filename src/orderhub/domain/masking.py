"""Masking of personal data for logs and screens (`张*`, `138****8000`)."""

from __future__ import annotations

__all__ = ["mask_address", "mask_email", "mask_name", "mask_phone"]


def mask_name(name: str) -> str:
    """Keep the first character: `张三` → `张*`, `Alice Smith` → `A****`."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 4))


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: `13812348000` → `138****8000`."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def mask_email(email: str) -> str:
    """Keep the first letter and the domain: `alice@example.com` → `a***@example.com`."""
    local, sep, domain = email.partition("@")
    if not sep:
        return mask_name(email)
    return (local[:1] + "***" if local else "") + "@" + domain


def mask_address(address: str) -> str:
    """Keep the first six characters of a street line."""
    address = address.strip()
    if len(address) <= 6:
        return "*" * len(address)
    return address[:6] + "****"
