"""Money and times as a seller reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orderhub.cli._format import money, when
from orderhub.domain.errors import ConfigurationError


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("19.9000"), "USD", "$19.90"),
        (Decimal("128"), "CNY", "¥128.00"),
        (Decimal("1200.0000"), "JPY", "¥1,200"),
        (Decimal("0.005"), "EUR", "€0.01"),
        (Decimal("3.1415"), "KWD", "3.142 KWD"),
        ("9.5", "sgd", "9.50 SGD"),
    ],
)
def test_amounts_show_the_currencys_minor_unit(amount: object, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown  # type: ignore[arg-type]


def test_times_are_stored_in_utc_and_shown_in_the_sellers_zone() -> None:
    moment = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert when(moment, "Asia/Shanghai") == "2026-11-01 16:00 CST"
    assert when(moment, "Europe/Berlin", seconds=True) == "2026-11-01 09:00:00 CET"
    assert when(None, "Asia/Shanghai") == ""
    with pytest.raises(ConfigurationError, match="ORDERHUB_TIMEZONE 'Mars/Base'"):
        when(moment, "Mars/Base")
