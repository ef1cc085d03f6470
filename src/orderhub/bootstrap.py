"""Wires the real adapters together: settings → database → hub (→ worker)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from orderhub.config import Settings, load_hub_config
from orderhub.crypto import Cipher, parse_keys
from orderhub.domain.errors import ConfigurationError
from orderhub.observability import configure_logging
from orderhub.services.hub import Hub
from orderhub.services.keeping import index_phone_tails
from orderhub.services.setup import apply_config
from orderhub.store.db import Database, make_engine, upgrade_schema

__all__ = ["build_hub", "load_cipher", "load_settings"]


def load_cipher(settings: Settings) -> Cipher:
    """Keys from ORDERHUB_ENCRYPTION_KEYS; on a local SQLite file, a key file beside it.

    PostgreSQL deployments must configure their keys: a key kept only on one host
    would make the data unreadable from every other.
    """
    if settings.encryption_keys:
        try:
            keys, current = parse_keys(settings.encryption_keys)
            return Cipher(keys, current)
        except ValueError as exc:
            raise ConfigurationError(f"ORDERHUB_ENCRYPTION_KEYS: {exc}") from exc
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"ORDERHUB_DATABASE_URL {settings.database_url!r} is not a database URL "
            "(e.g. sqlite:///./orderhub.db or postgresql+psycopg://user@host/db)"
        ) from exc
    local = url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"
    if settings.key_file is not None:
        key_file = settings.key_file
        if not local and not key_file.exists():
            raise ConfigurationError(
                f"ORDERHUB_KEY_FILE {key_file} does not exist; a key shared by several hosts "
                "must be made once and copied to each"
            )
    elif local and url.database:
        key_file = Path(url.database + ".key")
    else:
        raise ConfigurationError(
            "set ORDERHUB_ENCRYPTION_KEYS (e.g. k1:<base64 of 32 random bytes>) "
            "or ORDERHUB_KEY_FILE to encrypt personal data"
        )
    try:
        if not key_file.exists():
            if not key_file.parent.is_dir():
                raise ConfigurationError(
                    f"the folder {key_file.parent} for the key file {key_file.name} does not exist"
                )
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write("local:" + base64.b64encode(os.urandom(32)).decode() + "\n")
        keys, current = parse_keys(key_file.read_text().strip())
    except OSError as exc:
        raise ConfigurationError(
            f"cannot use the key file {key_file}: {exc.strerror or exc}"
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(f"the key file {key_file}: {exc}") from exc
    return Cipher(keys, current)


def load_settings() -> Settings:
    """Settings from the environment; a bad value stops start-up with one sentence."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ORDERHUB_" + "_".join(str(p) for p in first["loc"]).upper()
        raise ConfigurationError(f"{name}: {first['msg'].lower()}") from exc


def build_hub(
    settings: Settings | None = None, *, migrate: bool = True, apply: bool = False
) -> Hub:
    """A hub on the configured database, schema upgraded; with `apply`, the YAML file of
    ORDERHUB_CONFIG is applied too (only what something starts, or an operator asks, does:
    looking at the hub never changes it)."""
    settings = settings or load_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    cipher = load_cipher(settings)
    db = Database(
        make_engine(settings.database_url),
        cipher,
        tenant=settings.tenant,
        timezone=settings.timezone,
    )
    db.check()
    if migrate:
        upgrade_schema(db.engine)
    hub = Hub(db, settings)
    if migrate:
        index_phone_tails(hub)  # orders kept before their phone tails were (none after)
    if apply and settings.config:
        try:
            apply_config(hub, load_hub_config(settings.config))
        except BaseException:
            hub.close()
            raise
    return hub
