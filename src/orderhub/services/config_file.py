"""The YAML file and the console say the same thing: a connection saved in the console is
written back into the file the hub was started with (ORDERHUB_CONFIG).

Without this, the next start would apply the file again and undo what a person set up in
the browser. The file is edited in place, so its comments, its order and the entries
nobody touched stay as the seller wrote them. A secret is never written in clear: one
the file already gives (as `${ENV_VAR}` or as a ciphertext) stays as it is, and a new one
is written encrypted with the hub's key, which `open_file_secrets` reads back on start.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from orderhub.config import HubConfig, NodeConfig, ShopConfig
from orderhub.crypto import Cipher, DecryptionError
from orderhub.domain.errors import ConfigurationError
from orderhub.services.hub import Hub
from orderhub.store.catalog import NodeRecord, ShopRecord

__all__ = ["open_file_secrets", "write_node", "write_shop"]

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_CIPHERTEXT = re.compile(r"^v1:[^:]+:[A-Za-z0-9+/=]+$")
_lock = threading.Lock()


def _context(kind: str, code: str, key: str) -> bytes:
    return f"config:{kind}:{code}:{key}".encode()


def _open_secrets(cipher: Cipher, kind: str, code: str, secrets: dict[str, str]) -> None:
    for key, value in secrets.items():
        if _CIPHERTEXT.match(value):
            try:
                secrets[key] = cipher.decrypt(value, context=_context(kind, code, key))
            except DecryptionError as exc:
                raise ConfigurationError(f"{kind} {code}: secret {key}: {exc}") from exc


def open_file_secrets(hub: Hub, config: HubConfig) -> HubConfig:
    """The configuration with the secrets the console wrote (encrypted) in clear, in memory."""
    for shop in config.shops:
        _open_secrets(hub.db.cipher, "shop", shop.code, shop.secrets)
    for node in config.nodes:
        _open_secrets(hub.db.cipher, "node", node.code, node.secrets)
    if config.erp is not None:
        _open_secrets(hub.db.cipher, "erp", config.erp.code, config.erp.secrets)
    return config


def _shop_entry(shop: ShopRecord) -> dict[str, Any]:
    settings = {k: v for k, v in shop.settings.items() if k != "mapping"}
    config = ShopConfig.model_validate(
        {
            "code": shop.code,
            "platform": shop.platform,
            "name": shop.name,
            "nodes": list(shop.nodes),
            "safety_stock": shop.safety_stock,
            "sync_ratio": shop.sync_ratio,
            "settings": settings,
            "mapping": dict(shop.settings.get("mapping") or {}),
            "routing": dict(shop.routing),
            "customs": dict(shop.customs),
        }
    )
    return config.model_dump(mode="json", exclude_defaults=True)


def _node_entry(node: NodeRecord) -> dict[str, Any]:
    where = node.location
    config = NodeConfig.model_validate(
        {
            "code": node.code,
            "platform": node.platform,
            "kind": node.kind,
            "name": node.name,
            "priority": node.priority,
            "country": where.get("country", ""),
            "province": where.get("province", ""),
            "costs": where.get("costs", {}),
            "unlimited_stock": where.get("unlimited_stock", False),
            "skus": where.get("skus", []),
            "customs": where.get("customs", {}),
            "pushes_in_flight": where.get("pushes_in_flight"),
            "settings": dict(node.settings),
        }
    )
    return config.model_dump(mode="json", exclude_defaults=True)


def _secret_text(
    cipher: Cipher, kind: str, code: str, key: str, value: str, written: object
) -> str:
    """What the file says for one secret: what it said before when that still gives
    `value`, else `value` encrypted."""
    if isinstance(written, str):
        ref = _ENV_REF.match(written)
        if ref and os.environ.get(ref.group(1)) == value:
            return written
        if _CIPHERTEXT.match(written):
            try:
                if cipher.decrypt(written, context=_context(kind, code, key)) == value:
                    return written
            except DecryptionError:
                pass
    return cipher.encrypt(value, context=_context(kind, code, key))


def _same(a: object, b: object) -> bool:
    """Equal as YAML values (ruamel's commented maps and lists compare as plain ones)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _update(target: CommentedMap, entry: Mapping[str, Any]) -> None:
    """Make `target` say `entry`, touching only the keys that differ (their comments stay)."""
    for key in [k for k in target if k not in entry]:
        del target[key]
    for key, value in entry.items():
        if key not in target or not _same(target[key], value):
            target[key] = value


def _write(
    hub: Hub,
    section: str,
    kind: str,
    code: str,
    entry: dict[str, Any],
    secrets: Mapping[str, str],
) -> None:
    path = hub.settings.config
    if path is None:
        return
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    with _lock:
        data = _read(yaml, path)
        items = data.get(section)
        if items is None:
            items = data[section] = CommentedSeq()
        if not isinstance(items, list):
            raise ConfigurationError(f"{path}: {section} is not a list")
        found = next(
            (x for x in items if isinstance(x, CommentedMap) and x.get("code") == code), None
        )
        written = dict(found.get("secrets") or {}) if found is not None else {}
        cipher = hub.db.cipher
        if secrets:
            entry["secrets"] = {
                key: _secret_text(cipher, kind, code, key, value, written.get(key))
                for key, value in secrets.items()
            }
        if found is None:
            items.append(CommentedMap(entry))
        else:
            _update(found, entry)
        _replace(yaml, path, data)


def _read(yaml: YAML, path: Path) -> CommentedMap:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CommentedMap()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the configuration file {path}: {exc}") from exc
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigurationError(f"the configuration file {path} is not valid YAML") from exc
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigurationError(f"the configuration file {path} is not a mapping")
    return data


def _replace(yaml: YAML, path: Path, data: CommentedMap) -> None:
    """Write the whole file at once: a reader never sees half of it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                yaml.dump(data, out)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigurationError(
            f"the configuration file {path} cannot be written ({exc.strerror}); nothing was saved"
        ) from exc


def write_shop(hub: Hub, shop: ShopRecord) -> None:
    """Say in the configuration file what is now stored for this shop."""
    _write(hub, "shops", "shop", shop.code, _shop_entry(shop), shop.secrets)


def write_node(hub: Hub, node: NodeRecord) -> None:
    """Say in the configuration file what is now stored for this node."""
    _write(hub, "nodes", "node", node.code, _node_entry(node), node.secrets)
