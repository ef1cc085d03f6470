"""Statements the hot path runs, handed straight to the database driver.

A statement run through SQLAlchemy costs about 75 µs of CPU on SQLite before the
database does anything (the cache key, the late-rendered `IN` lists, the execution
context, the result's metadata); the same statement on the driver's cursor costs 2 µs.
A turn of the pipeline runs a few dozen statements, so that overhead is most of what a
lone order costs. Here a statement built with Core is compiled once per database and per
length of its `IN` lists, and then run on the driver's cursor:

* values pass through their types' bind processors, and read values through their
  result processors, exactly as SQLAlchemy would apply them;
* the engine's `before_cursor_execute` listeners still see every statement (the
  statement counts in /metrics, and tests that watch what is sent);
* a driver error is raised as SQLAlchemy's (`IntegrityError`, `OperationalError`, ...),
  and a connection found broken is invalidated, as for any statement.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

__all__ = ["MAX_PLANS", "Query", "execute"]

MAX_PLANS = 64
"""Statements kept per query, one per database and length of its lists."""


def execute(conn: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run `sql` on the driver's cursor inside `conn`'s transaction; the open cursor."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    listeners = conn.dispatch.before_cursor_execute
    if listeners:
        listeners(conn, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        broken = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            params,
            exc,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=broken,
        ) from exc
    return cursor


class _Given:
    """Stands for a value the caller gives (an item of a list when `index` is set), to
    find where each lands among the driver's parameters."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int | None) -> None:
        self.name = name
        self.index = index


@dataclass
class _Plan:
    sql: str
    # Per driver parameter: (name, index in its list or None, processor), or a constant.
    sources: tuple[tuple[str | None, int | None, Callable[[Any], Any] | None, Any], ...]
    names: tuple[str, ...] | None  # the driver takes a dict by these names (PostgreSQL)
    columns: tuple[Any, ...]
    results: list[Callable[[Any], Any] | None] | None = field(default=None)

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = []
        for name, index, process, constant in self.sources:
            if name is None:
                values.append(constant)
                continue
            value = given[name] if index is None else given[name][index]
            values.append(value if process is None or value is None else process(value))
        if self.names is None:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))


class Query:
    """A SELECT or a write, compiled once per database; `all` reads rows back with
    named fields (a write's RETURNING), `run` says how many rows a write changed."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, SQLCompiler] = {}
        self._plans: dict[tuple[str, tuple[int, ...]], _Plan] = {}
        self._rows: dict[str, Any] = {}
        self._lists: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, each value as its column's type reads it."""
        plan = self._plan(conn.dialect, params)
        cursor = execute(conn, plan.sql, plan.parameters(params))
        try:
            fetched = cursor.fetchall()
            if plan.results is None:
                plan.results = [
                    column.type.dialect_impl(conn.dialect).result_processor(
                        conn.dialect, described[1]
                    )
                    for column, described in zip(plan.columns, cursor.description, strict=True)
                ]
        finally:
            cursor.close()
        make = self._row_type(conn.dialect.name, plan)
        processors = plan.results
        if not any(processors):
            return [make(row) for row in fetched]
        return [
            make(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, row, strict=True)
                ]
            )
            for row in fetched
        ]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that reads nothing back; the rows it changed."""
        plan = self._plan(conn.dialect, params)
        cursor = execute(conn, plan.sql, plan.parameters(params))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row = self.first(conn, params)
        return None if row is None else row[0]

    def _row_type(self, dialect: str, plan: _Plan) -> Callable[[Sequence[Any]], Any]:
        made = self._rows.get(dialect)
        if made is None:
            names = [getattr(c, "key", None) or f"c{i}" for i, c in enumerate(plan.columns)]
            made = self._rows[dialect] = namedtuple("Row", names, rename=True)._make  # type: ignore[attr-defined]
        return made  # type: ignore[no-any-return]

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        given = self._lists.get(dialect.name)
        if given is None:  # the lists the caller gives, not those written in the statement
            given = self._lists[dialect.name] = tuple(
                name for name, bind in compiled.binds.items() if bind.expanding and name in params
            )
        lists = tuple(len(params[name]) for name in given)
        plan = self._plans.get((dialect.name, lists))
        if plan is None:
            plan = self._build(compiled, dialect, params)
            with self._lock:
                if len(self._plans) >= MAX_PLANS:  # lists of many lengths: the oldest go
                    del self._plans[next(iter(self._plans))]
                self._plans[(dialect.name, lists)] = plan
        return plan

    def _build(self, compiled: SQLCompiler, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        stand_ins: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            if name not in params:
                continue  # a value written in the statement (`status IN ('a', 'b')`)
            if bind.expanding:
                stand_ins[name] = [_Given(name, i) for i in range(len(params[name]))]
            else:
                stand_ins[name] = _Given(name, None)
        state = compiled.construct_expanded_state(stand_ins)
        names = tuple(state.positiontup or state.parameters)
        sources: list[tuple[str | None, int | None, Callable[[Any], Any] | None, Any]] = []
        for name in names:
            value = state.parameters[name]
            process = state.processors.get(name)
            if isinstance(value, _Given):
                sources.append((value.name, value.index, process, None))
            else:
                constant = value if process is None or value is None else process(value)
                sources.append((None, None, None, constant))
        columns = tuple(
            getattr(self.statement, "selected_columns", None) or self.statement.exported_columns  # type: ignore[attr-defined]
        )
        return _Plan(
            sql=state.statement,
            sources=tuple(sources),
            names=None if dialect.positional else names,
            columns=columns,
        )
