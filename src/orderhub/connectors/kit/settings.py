"""Reading a connection's settings mapping: each bad or missing key named in a sentence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["required", "setting", "whole_number", "yes_no"]

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


def yes_no(value: Any) -> bool:
    """A switch as a config file or form writes it: true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is neither yes nor no")


def whole_number(low: int, high: int) -> Callable[[Any], int]:
    """A `kind` for `setting`: a whole number from `low` to `high`."""

    def read(value: Any) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"{number} is not from {low} to {high}")
        return number

    return read
