"""Outbound calls queued, retried or dead."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.cli.exceptions import LimitOption, OffsetOption, page_data
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Outbound calls queued, retried or dead.")


@app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="pending, running, done or dead.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind, e.g. node.push.")] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    json_out: JsonFlag = False,
) -> None:
    """Outbox jobs, newest first, a page at a time, with how many there are in all."""
    from orderhub.services.queries import job_list

    hub = open_hub()
    page = job_list(hub, status=status, kind=kind, limit=limit, offset=offset)
    hub.close()
    if json_out:
        print_json(page_data(page, [r.__dict__ for r in page.items]))
        return
    table = Table("id", "kind", "status", "attempts", "order", "last error")
    for r in page.items:
        table.add_row(
            str(r.id),
            r.kind,
            r.status,
            f"{r.attempts}/{r.max_attempts}",
            r.order_id or "",
            r.last_error or "",
        )
    out.print(table)
    more = page.offset + len(page.items) < page.total
    out.print(page.shown + (f"; --offset {page.offset + len(page.items)} for more" if more else ""))


@app.command("retry")
def jobs_retry(job_id: Annotated[int, typer.Argument(help="A dead job's id.")]) -> None:
    """Queue a dead-lettered job again with fresh attempts."""
    from orderhub.services.exceptions import retry_job

    hub = open_hub()
    ok = retry_job(hub, job_id)
    hub.close()
    if not ok:
        raise OrderhubError(f"job {job_id} is not dead-lettered")
    out.print(f"job {job_id} queued again")
