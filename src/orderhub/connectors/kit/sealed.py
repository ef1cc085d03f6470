"""Opening a receiver the platform sealed field by field, the same way on every platform.

Pinduoduo, Douyin and JD send a ciphertext for each of name, phone and street; the hub
keeps them joined by "|" (the mapping files do it) and hands them back to the platform's
decrypt call when a person with the right to see them asks.
"""

from __future__ import annotations

from collections.abc import Mapping

from orderhub.domain.order import sealed_fields

from ..base import OpenedReceiver, Rejected

__all__ = ["field_ciphers", "opened"]


def field_ciphers(sealed: str, platform: str) -> tuple[str, str, str]:
    """(name, phone, street) ciphertexts; Rejected when the seal is not three of them."""
    ciphers = sealed_fields(sealed)
    if ciphers is None:
        raise Rejected(f"{platform} sealed this receiver in a form the hub cannot open")
    return ciphers


def opened(
    clear: Mapping[str, str], ciphers: tuple[str, str, str], via: str, platform: str
) -> OpenedReceiver:
    """The receiver from the decrypt call's answer (ciphertext → clear text)."""
    missing = [
        name for name, c in zip(("name", "phone", "street"), ciphers, strict=True) if c not in clear
    ]
    if missing:
        raise Rejected(f"{platform} did not open the receiver's {', '.join(missing)}")
    return OpenedReceiver(clear[ciphers[0]], clear[ciphers[1]], clear[ciphers[2]], via)
