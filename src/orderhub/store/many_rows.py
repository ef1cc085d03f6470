"""Writes the hot path runs, for one row or many, handed to the driver as compiled.

Run through Core, every row of an `executemany` is turned into parameters one by one
(the statement's parameters looked up, defaults merged, each value passed through its
type), which costs more than the driver's own work on SQLite: most of a batch's ledger
rows, stock levels, new orders and jobs, report figures and status changes. A
`ManyRows` statement is compiled once per database and set of columns; its rows are
then turned into the driver's parameters in one pass, each value through its type's
processor (a moment becomes UTC, and text on SQLite), and run on the driver's cursor
(`store.driver`), where the statement is still counted as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Delete, Insert, Update
from sqlalchemy.engine import Dialect

from orderhub.store.driver import execute

__all__ = ["ManyRows"]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # In the order the driver takes them: (name, given by the rows, else the value of a
    # literal written in the statement).
    binds: tuple[tuple[str, bool, Any], ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # by position in `binds`
    positional: bool  # else the driver takes a dict by name (PostgreSQL)


class ManyRows:
    """One INSERT, UPDATE or DELETE, run for a list of rows given by column or bind name.
    Every row gives the same names; a column's Python-side default or `onupdate` would
    not be applied, so a statement on such a column is refused when compiled."""

    def __init__(self, statement: Insert | Update | Delete) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row; the rows it changed, summed."""
        if not rows:
            return 0
        keys = tuple(rows[0])
        compiled = self._compiled.get((conn.dialect.name, keys))
        if compiled is None:
            compiled = self._compile(conn.dialect, keys)
            self._compiled[(conn.dialect.name, keys)] = compiled
        binds = compiled.binds
        params: list[Any] = []
        for row in rows:
            values = [row[name] if given else literal for name, given, literal in binds]
            for index, process in compiled.processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            params.append(
                tuple(values)
                if compiled.positional
                else {name: value for (name, _, _), value in zip(binds, values, strict=True)}
            )
        many = len(params) > 1
        cursor = execute(conn, compiled.sql, params if many else params[0], many=many)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        statement = self.statement
        table = statement.table
        for column in getattr(table, "columns", ()):
            if (isinstance(statement, Insert) and column.default is not None) or (
                isinstance(statement, Update) and column.onupdate is not None
            ):
                raise ValueError(f"{table}.{column.name} has a default the driver would skip")
        columns = list(keys) if isinstance(statement, Insert) else None
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        names = tuple(compiled.positiontup or []) if dialect.positional else tuple(compiled.binds)
        binds = [compiled.binds[name] for name in names]
        processors = [bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds]
        return _Compiled(
            sql=compiled.string,
            binds=tuple(
                (name, name in keys, None if name in keys else bind.value)
                for name, bind in zip(names, binds, strict=True)
            ),
            processors=tuple((i, p) for i, p in enumerate(processors) if p is not None),
            positional=bool(dialect.positional),
        )
