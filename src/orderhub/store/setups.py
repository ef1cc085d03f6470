"""What every connection's record shares: the set-up a connector is built from, and the
configuration version it was read at.

The hub keeps one connector per shop, node, ERP account and tracker, and builds it again
when the set-up changes. A job that read the record before a change may still be running
after a newer job rebuilt the connector; its older record must not rebuild it back. The
configuration version a record was read at orders them. A record changed in memory
(`dataclasses.replace`) was not read at any version: the mark is not a field, so a copy
starts again at 0.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from orderhub.crypto import Cipher

__all__ = ["ConnectionSetUp", "open_secrets", "read_at"]

R = TypeVar("R", bound="ConnectionSetUp")


class ConnectionSetUp:
    """The base of the shop, node, ERP and tracker records (frozen dataclasses)."""

    # The seller's configuration version the record was read at; 0 when it was not read
    # from the store as it is (built in memory, or copied with a change). Not a field:
    # set by `read_at` on the record itself, so that a copy does not carry it.
    version: ClassVar[int] = 0

    @cached_property
    def setup_print(self) -> str:
        """What a connector is built from, as one text to compare (the order mapping is
        not: it is applied by the hub, not by the connector). Computed once per record."""
        fields: dict[str, Any] = vars(self)
        settings = {k: v for k, v in fields["settings"].items() if k != "mapping"}
        mapping = dict(fields.get("mapping", {}))  # an ERP account's document mapping
        built_from = [fields["platform"], settings, dict(fields["secrets"]), mapping]
        return json.dumps(built_from, sort_keys=True, default=str)


def read_at(record: R, version: int) -> R:
    """The record, marked as read at this configuration version, which was read before
    the record's row: a version read after it may be newer than what the row holds."""
    object.__setattr__(record, "version", version)
    return record


def open_secrets(cipher: Cipher, sealed: str, context: str) -> dict[str, str]:
    """A connection's secrets as stored (sealed to `context`, e.g. "shop:S1"), in clear."""
    if not sealed:
        return {}
    opened: dict[str, str] = json.loads(cipher.decrypt(sealed, context=context.encode()))
    return opened
