"""Qimen request signing: MD5 over the secret, the sorted URL parameters and the raw body.

    sign = upper(hex(md5(secret + k1v1k2v2… + body + secret)))

Keys are ASCII-sorted, `sign` itself and empty values are left out, and the body is
signed byte for byte as sent, so the caller must sign exactly the bytes it posts.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..kit.signing import concatenated, sorted_sign, verify_sorted

__all__ = ["sign", "sign_payload", "verify"]


def sign_payload(params: Mapping[str, str], body: bytes, secret: str) -> bytes:
    """The exact bytes that get hashed, exposed so a mismatch can be debugged."""
    return secret.encode() + concatenated(params).encode() + body + secret.encode()


def sign(params: Mapping[str, str], body: bytes, secret: str) -> str:
    """The `sign` URL parameter for these parameters and body."""
    return sorted_sign(params, secret, body=body)


def verify(params: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when `params["sign"]` matches; compared in constant time."""
    return verify_sorted(params, secret, body=body)
