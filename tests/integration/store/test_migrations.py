"""The migrations build exactly the tables the code declares, and can be undone.

Migrations after 0001 were written by hand, so alembic's autogenerate comparison is the
check that a database they built matches `orderhub.store.tables` (columns, types,
nullability, server defaults, indexes, constraints), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from orderhub.store.db import MIGRATIONS, make_engine, upgrade_schema
from orderhub.store.tables import metadata


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    e = make_engine(database_url)
    yield e
    e.dispose()


def alembic_config() -> Config:
    """The configuration `upgrade_schema` builds: the packaged migrations, no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, direction: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)


def _sqlite_default(text: str) -> str:
    """SQLite reflects `server_default=""` as `('')`: the same default, spelled otherwise."""
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _declared(default: Any) -> str | None:
    if default is None:
        return None
    arg = default.arg
    return arg if isinstance(arg, str) else str(getattr(arg, "text", arg))


def differences(engine: Engine) -> list[Any]:
    """What alembic would change to make the database match the declared tables."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        found: list[Any] = compare_metadata(context, metadata)
    if engine.dialect.name != "sqlite":
        return found
    kept = []
    for diff in found:
        ops = diff if isinstance(diff, list) else [diff]
        # Spurious on SQLite only: a reflected default that is the declared one in
        # parentheses. Any other server default difference is still reported.
        spurious = all(
            op[0] == "modify_default"
            and op[5] is not None
            and _sqlite_default(str(getattr(op[5].arg, "text", op[5].arg))) == _declared(op[6])
            for op in ops
        )
        if not spurious:
            kept.append(diff)
    return kept


def test_the_migrated_schema_is_exactly_the_declared_tables(engine: Engine) -> None:
    upgrade_schema(engine)  # the fixture migrated already: this must change nothing

    assert differences(engine) == []
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()


def head() -> str:
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None
    return found


def test_every_migration_can_be_undone_and_done_again(engine: Engine) -> None:
    revisions = [
        r.revision
        for r in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
    ]
    # One line of migrations, numbered in the order they apply.
    assert revisions == [f"{n:04d}" for n in range(1, len(revisions) + 1)]

    for _ in revisions:  # down one step at a time, to an empty database
        migrate(engine, "downgrade", "-1")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    for revision in revisions:  # and up again, one step at a time
        migrate(engine, "upgrade", revision)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == revision
    assert differences(engine) == []

    migrate(engine, "downgrade", "base")  # all at once as well
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_schema(engine)
    assert differences(engine) == []
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
