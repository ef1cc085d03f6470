"""Moments reach SQLite as the text SQLAlchemy's DATETIME writes, in UTC, whatever zone
they were given in: rows written by the hot path and by any other statement compare and
sort as one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import TypeDecorator
from sqlalchemy.dialects import sqlite

from orderhub.store.tables import UtcDateTime

ZONES = [
    UTC,
    timezone(timedelta(0)),
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-9, minutes=-30)),
]


@settings(max_examples=500)
@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )
)
def test_a_moment_is_written_as_sqlalchemy_writes_it_in_utc(moment: datetime) -> None:
    dialect = sqlite.dialect()
    column = UtcDateTime().dialect_impl(dialect)
    written = column.bind_processor(dialect)
    by_sqlalchemy = TypeDecorator.bind_processor(column, dialect)
    assert written is not None and by_sqlalchemy is not None
    assert written(moment) == by_sqlalchemy(moment)
    assert written(moment) == moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_a_moment_without_a_zone_is_refused() -> None:
    dialect = sqlite.dialect()
    written = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert written is not None
    with pytest.raises(ValueError, match="naive"):
        written(datetime(2026, 12, 7, 10, 0))
