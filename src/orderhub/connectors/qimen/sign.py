"""Qimen request signing: MD5 over the secret, the sorted URL parameters and the raw body.

    sign = upper(hex(md5(secret + k1v1k2v2… + body + secret)))

Keys are ASCII-sorted, `sign` itself and empty values are left out, and the body is
signed byte for byte as sent, so the caller must sign exactly the bytes it posts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["sign", "sign_payload", "verify"]


def sign_payload(params: Mapping[str, str], body: bytes, secret: str) -> bytes:
    """The exact bytes that get hashed, exposed so a mismatch can be debugged."""
    pairs = "".join(
        f"{key}{params[key]}" for key in sorted(params) if key != "sign" and params[key]
    )
    return secret.encode() + pairs.encode() + body + secret.encode()


def sign(params: Mapping[str, str], body: bytes, secret: str) -> str:
    """The `sign` URL parameter for these parameters and body."""
    return hashlib.md5(sign_payload(params, body, secret)).hexdigest().upper()


def verify(params: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when `params["sign"]` matches; compared in constant time."""
    given = params.get("sign", "")
    if not given:
        return False
    expected = sign(params, body, secret)
    return hmac.compare_digest(expected.encode(), given.upper().encode())
