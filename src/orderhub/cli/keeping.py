"""Encryption keys and the retention of personal data."""

from __future__ import annotations

import base64
import os
from typing import Annotated

import typer

from orderhub.cli._common import JsonFlag, open_hub, out, print_json

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys of personal data.")
retention_app = typer.Typer(no_args_is_help=True, help="How long personal data is kept.")


@keys_app.command("new")
def keys_new(key_id: Annotated[str, typer.Argument(help="A name for the key, e.g. k2.")]) -> None:
    """Print a new random key as `ID:BASE64`, to append to ORDERHUB_ENCRYPTION_KEYS or the
    key file (the last key listed is the one that encrypts)."""
    out.print(f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}")


@keys_app.command("rotate")
def keys_rotate(json_out: JsonFlag = False) -> None:
    """Re-encrypt every order, raw payload and connection secret with the current key,
    after which older keys can be removed."""
    from orderhub.services.keeping import rotate_keys

    hub = open_hub()
    try:
        done = rotate_keys(hub)
    finally:
        hub.close()
    if json_out:
        print_json(done.__dict__)
        return
    out.print(
        f"sealed with key {done.key}: {done.orders} order(s), {done.payloads} payload(s), "
        f"{done.connections} shop or node secret set(s)"
    )


@retention_app.command("purge")
def retention_purge(json_out: JsonFlag = False) -> None:
    """Now, instead of at the daily run: mask the personal data of orders closed longer ago
    than ORDERHUB_RETENTION_DAYS and empty their raw payloads, and delete the jobs finished
    longer ago than ORDERHUB_FINISHED_JOBS_KEPT_DAYS."""
    from orderhub.services.handlers import HANDLERS
    from orderhub.services.keeping import forget_finished_jobs, purge_personal_data

    hub = open_hub()
    try:
        done = purge_personal_data(hub)
        jobs = forget_finished_jobs(hub, sorted(HANDLERS))
        days, job_days = hub.settings.retention_days, hub.settings.finished_jobs_kept_days
    finally:
        hub.close()
    if json_out:
        print_json({**done.__dict__, "jobs": jobs})
        return
    out.print(
        f"{done.orders} order(s) closed over {days:g} days ago masked, "
        f"{done.payloads} raw payload(s) emptied, "
        f"{jobs} job(s) finished over {job_days:g} days ago deleted"
    )
