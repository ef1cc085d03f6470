"""Encryption at rest for personal data and secrets (AES-256-GCM, rotating keys).

A ciphertext is `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id travels
with it, so a new key can be made current while old rows still decrypt; re-encrypting
them is a background job, not a migration.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orderhub.domain.errors import ConfigurationError

__all__ = ["Cipher", "DecryptionError", "is_sealed", "parse_keys"]

_PREFIX = "v1"
_SEALED = b"ohv1:"


class DecryptionError(ConfigurationError):
    """A stored value cannot be decrypted with the configured keys: the keys (or the key
    file) were changed or lost, or the value was altered."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"stored personal data cannot be decrypted: {reason}. Were ORDERHUB_ENCRYPTION_KEYS "
            "or the key file changed? Restore the key the data was written with."
        )
        self.reason = reason


class Cipher:
    """Encrypts with the current key, decrypts with whichever key a value names."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current encryption key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"encryption key {key_id!r} must be 32 bytes (AES-256)")
            if ":" in key_id:
                raise ValueError("an encryption key id may not contain ':'")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self._fingerprint_key = hmac.new(keys[current], b"orderhub fingerprint", "sha256").digest()

    def fingerprint(self, plaintext: str) -> str:
        """A keyed hash that finds equal personal data (same buyer, same address) without
        storing it readable; a table of phone numbers cannot be hashed to reverse it."""
        return hmac.digest(self._fingerprint_key, plaintext.encode("utf-8"), "sha256").hex()

    def sealed_now(self, token: str) -> bool:
        """Whether a value was encrypted with the current key (needs no re-sealing)."""
        return token.startswith(f"{_PREFIX}:{self.current}:")

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode("utf-8"), context)
        blob = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{_PREFIX}:{self.current}:{blob}"

    def decrypt(self, token: str, *, context: bytes = b"") -> str:
        try:
            prefix, key_id, blob = token.split(":", 2)
        except ValueError as exc:
            raise DecryptionError("not an orderhub ciphertext") from exc
        if prefix != _PREFIX:
            raise DecryptionError(f"unknown ciphertext version {prefix!r}")
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptionError(f"encryption key {key_id!r} is not configured")
        raw = base64.b64decode(blob)
        try:
            return aead.decrypt(raw[:12], raw[12:], context).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError("ciphertext was altered or the key is wrong") from exc

    def seal(self, data: bytes, *, context: bytes) -> bytes:
        """Bytes encrypted with the current key, which the result names:
        `ohv1:<key id>:<nonce><ciphertext>`. `context` binds them to their row."""
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, data, context)
        return _SEALED + self.current.encode() + b":" + nonce + sealed

    def unseal(self, data: bytes, *, context: bytes) -> bytes:
        """What `seal` encrypted; bytes stored before encryption come back as they are."""
        if not is_sealed(data):
            return data
        key_id, _, rest = data[len(_SEALED) :].partition(b":")
        name = key_id.decode("ascii", "replace")
        aead = self._aead.get(name)
        if aead is None:
            raise DecryptionError(f"encryption key {name!r} is not configured")
        try:
            return aead.decrypt(rest[:12], rest[12:], context)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext was altered or the key is wrong") from exc


def is_sealed(data: bytes) -> bool:
    """Whether stored bytes were written by `Cipher.seal` (older rows may be plain)."""
    return data.startswith(_SEALED)


def parse_keys(spec: str) -> tuple[dict[str, bytes], str]:
    """Parse `kid1:base64key,kid2:base64key`; the last key listed is the current one."""
    keys: dict[str, bytes] = {}
    current = ""
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep:
            raise ValueError("each encryption key must be written as <id>:<base64 of 32 bytes>")
        keys[key_id] = base64.b64decode(encoded)
        current = key_id
    if not keys:
        raise ValueError("no encryption key is configured")
    return keys, current
