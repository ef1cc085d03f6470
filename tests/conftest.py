"""Shared fixtures: a fresh database of each kind (SQLite and the throwaway PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from orderhub.services.hub import Hub
from orderhub.store.db import make_engine, upgrade_schema
from support import AUTH_CASES, make_hub, postgres_admin_url

_template_ready = False
# One template per pytest process, so sessions sharing a server do not collide.
_TEMPLATE = f"orderhub_template_{os.getpid()}"


def _fresh_postgres_database() -> str:
    """A new database cloned from a migrated template (fast: no migrations per test)."""
    global _template_ready
    admin = make_url(postgres_admin_url())
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not _template_ready:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE}"))
            conn.execute(text(f"CREATE DATABASE {_TEMPLATE}"))
            template = make_engine(admin.set(database=_TEMPLATE).render_as_string(False))
            upgrade_schema(template)
            template.dispose()
            _template_ready = True
        name = f"t_{uuid.uuid4().hex[:12]}"
        # FILE_COPY copies the files at once; the default writes every page to the WAL.
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE} STRATEGY = FILE_COPY"))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (no migrations per test)."""
    path = tmp_path_factory.mktemp("template") / "orderhub.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    return path


def _drop_postgres_database(url: str) -> None:
    admin = make_url(postgres_admin_url())
    name = make_url(url).database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "orderhub.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = _fresh_postgres_database()
        yield url
        _drop_postgres_database(url)


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    yield h
    h.close()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say how many route × role cases the authorisation tests checked."""
    cases = config.stash.get(AUTH_CASES, 0)
    if cases:
        terminalreporter.write_line(f"authorisation: {cases} route × credential cases checked")
