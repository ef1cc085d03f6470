"""Running the hub: the demo, the server, workers and the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from orderhub.cli._common import JsonFlag, err, open_hub, out, print_json
from orderhub.domain.order import Order

app = typer.Typer()
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
schema_app = typer.Typer(no_args_is_help=True, help="Published JSON Schemas.")


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="How many orders to place.")] = 200,
    rate: Annotated[float, typer.Option(help="Orders placed per second.")] = 20.0,
    shops: Annotated[int, typer.Option(help="How many emulated shops sell the stock.")] = 1,
    stock: Annotated[int, typer.Option(help="Opening stock of each SKU.")] = 1000,
    skus: Annotated[int, typer.Option(help="How many SKUs the shops sell.")] = 1,
    exit_when_done: Annotated[bool, typer.Option(help="Stop once every order is settled.")] = False,
    channels: Annotated[
        str,
        typer.Option(
            help="Platforms with a shop each, sharing the stock: shopify,taobao; or all "
            "(every platform, Amazon shipping from a 4PX warehouse in the US)."
        ),
    ] = "shopify",
    port: Annotated[
        int, typer.Option(help="The console's port (another is picked when it is taken).")
    ] = 8000,
    json_out: JsonFlag = False,
) -> None:
    """Run the hub with emulated shops and a warehouse, and watch orders flow, in the
    terminal and in the console, whose address and sign-in it prints."""
    from orderhub.demo import DemoOptions, run_demo

    summary = run_demo(
        DemoOptions(
            orders=orders,
            rate=rate,
            shops=shops,
            stock=stock,
            skus=skus,
            exit_when_done=exit_when_done,
            quiet=json_out,
            channels=tuple(c.strip() for c in channels.split(",") if c.strip()),
            port=port,
        )
    )
    if json_out:
        print_json(summary)
    else:
        out.print_json(data=summary)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run a worker in this process too.")] = True,
) -> None:
    """HTTP API, webhooks and (by default) an in-process worker."""
    import uvicorn

    from orderhub.api.app import create_app
    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker
    from orderhub.services.announce import announce

    hub = open_hub(apply=True)
    running = Worker(hub) if worker else None
    scheduler = Scheduler(hub) if worker else None
    if running and scheduler:
        running.start()
        scheduler.start()
    api = create_app(hub)
    public = hub.settings.public_url if "public_url" in hub.settings.model_fields_set else None
    try:
        for line in announce(
            hub,
            listening=f"http://{host}:{port}",
            public_url=public,
            setup_code=api.state.setup_code.value,
        ):
            err.print(line)
        uvicorn.run(api, host=host, port=port, log_level="warning")
    finally:
        if running and scheduler:
            scheduler.stop()
            running.stop()
        hub.close()


@app.command("worker")
def worker_command(
    threads: Annotated[int | None, typer.Option(help="Worker threads.")] = None,
) -> None:
    """Run outbox jobs until interrupted; start as many as you like on PostgreSQL."""
    import signal
    import threading

    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker

    hub = open_hub(apply=True)
    running = Worker(hub, threads=threads)
    scheduler = Scheduler(hub)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    running.start()
    scheduler.start()
    err.print(f"worker {running.name} running with {running.threads} threads")
    stop.wait()
    scheduler.stop()
    running.stop()
    hub.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    hub = open_hub(migrate=True)
    hub.close()
    out.print("database is up to date")


@schema_app.command("order")
def schema_order() -> None:
    """The canonical order's JSON Schema."""
    print_json(Order.json_schema())
