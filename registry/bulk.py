"""A whole batch's rows written or looked up at the driver level.

SQLAlchemy's ``execute(statement, [dict, ...])`` builds, checks and converts a parameter dictionary per
row before the driver sees it (~15 µs a row), and expands an ``IN`` list value by value (~8 µs a value):
for a 10,000-row batch that was more than the database's own work. Here each statement is rendered once
(the table's and columns' names from ``registry.schema``, placeholders in the driver's style) and the
driver gets plain tuples: SQLite's and psycopg's ``executemany`` prepare it once. Values go through the
same per-type conversion SQLAlchemy would apply (on SQLite a date is stored as its ISO text), so the
stored bytes are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table

IN_CHUNK = 500  # values per IN list: within every supported SQLite's limit on bound parameters


def placeholders(conn: Connection, count: int) -> str:
    """``count`` positional placeholders, comma-separated, in the driver's style (``?`` or ``%s``)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def insert_many(
    conn: Connection, table: Table, columns: Sequence[Column[Any]], values: list[tuple[Any, ...]]
) -> None:
    """``INSERT`` one row per tuple of ``values`` (in the order of ``columns``), in one executemany."""
    if not values:
        return
    names = ", ".join(_quoted(conn, c.name) for c in columns)
    sql = f"INSERT INTO {_quoted(conn, table.name)} ({names}) VALUES ({placeholders(conn, len(columns))})"  # noqa: S608
    conn.exec_driver_sql(sql, _converted(conn, columns, values))


def update_many(
    conn: Connection,
    table: Table,
    key: Column[Any],
    columns: Sequence[Column[Any]],
    values: list[tuple[Any, ...]],
) -> None:
    """``UPDATE`` the row whose ``key`` is each tuple's last member, setting ``columns`` to the others."""
    if not values:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    assignments = ", ".join(f"{_quoted(conn, c.name)} = {mark}" for c in columns)
    sql = f"UPDATE {_quoted(conn, table.name)} SET {assignments} WHERE {_quoted(conn, key.name)} = {mark}"  # noqa: S608
    conn.exec_driver_sql(sql, _converted(conn, [*columns, key], values))


def select_in(
    conn: Connection, sql: str, fixed: tuple[Any, ...], values: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (a ``SELECT`` whose placeholders ``{fixed}`` and ``{values}`` stand for the
    parameters ``fixed`` and for an IN list) over ``values`` taken ``IN_CHUNK`` at a time."""
    ordered = sorted(set(values))
    found: list[tuple[Any, ...]] = []
    fixed_marks = placeholders(conn, len(fixed))
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        statement = sql.format(fixed=fixed_marks, values=placeholders(conn, len(chunk)))
        found.extend(tuple(r) for r in conn.exec_driver_sql(statement, (*fixed, *chunk)).fetchall())
    return found


def _quoted(conn: Connection, name: str) -> str:
    """A table's or column's name as SQLAlchemy writes it (quoted only if the dialect needs it)."""
    return str(conn.dialect.identifier_preparer.quote(name))


def _converted(
    conn: Connection, columns: Sequence[Column[Any]], values: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """``values`` as SQLAlchemy would hand them to the driver (only columns with a conversion change)."""
    dialect = conn.dialect
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(columns):
        found = column.type.dialect_impl(dialect).bind_processor(dialect)
        if found is not None:
            convert.append((i, found))
    if not convert:
        return values
    result = []
    for row in values:
        items = list(row)
        for i, conversion in convert:
            items[i] = conversion(items[i])
        result.append(tuple(items))
    return result
