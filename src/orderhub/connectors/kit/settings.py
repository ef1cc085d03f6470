"""Reading a connection's settings mapping: each bad or missing key named in a sentence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["required", "setting"]

T = TypeVar("T")


def setting(
    settings: Mapping[str, Any], key: str, kind: Callable[[Any], T], default: T, *, platform: str
) -> T:
    """`settings[key]` converted by `kind`, or `default` when absent or empty."""
    value = settings.get(key)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{platform} setting {key!r} has an invalid value: {value!r}.") from exc


def required(settings: Mapping[str, Any], key: str, *, platform: str) -> str:
    """A setting that must be given, as text."""
    value = settings.get(key)
    if value is None or str(value).strip() == "":
        raise ValueError(f"{platform} setting {key!r} is missing.")
    return str(value)
