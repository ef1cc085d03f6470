"""Text from outside made storable: PostgreSQL refuses NUL characters in text columns, and
no database can store a lone UTF-16 surrogate as UTF-8. Both are written as escapes, so
a message naming a hostile field is kept instead of failing the transaction."""

from __future__ import annotations

__all__ = ["storable"]


def storable(text: str) -> str:
    """`text` with NULs and lone surrogates written as backslash escapes."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
