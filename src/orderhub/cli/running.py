"""Running the hub: the demo, the server, workers and the schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from orderhub.cli._common import JsonFlag, err, open_hub, out, print_json
from orderhub.domain.errors import ConfigurationError
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
    from orderhub.collector import settle_collector
    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker
    from orderhub.services.announce import announce

    hub = open_hub(apply=True)
    on_cpu = _keep_to_one_cpu(hub.settings.cpu)
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
        if on_cpu:
            err.print(on_cpu)
        settle_collector()
        uvicorn.run(api, host=host, port=port, log_level="warning")
    finally:
        if running and scheduler:
            scheduler.stop()
            running.stop()
        hub.close()


@app.command("worker")
def worker_command(
    threads: Annotated[int | None, typer.Option(help="Worker threads.")] = None,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes, each with its threads and scheduler, started again when "
            "one dies (PostgreSQL only: SQLite has one writer at a time).",
        ),
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve Prometheus metrics on 127.0.0.1:PORT; with --processes N, process i "
            "(0 to N-1) on PORT+i."
        ),
    ] = None,
) -> None:
    """Run outbox jobs until interrupted; start as many as you like on PostgreSQL."""
    if processes > 1:
        _refuse_sqlite(processes)
        _run_processes(processes, threads, metrics_port)
        return
    import os

    from orderhub.collector import settle_collector
    from orderhub.jobs.scheduler import Scheduler
    from orderhub.jobs.worker import Worker

    hub = open_hub(apply=True)
    try:
        index = os.environ.get(WORKER_INDEX, "")
        on_cpu = _keep_to_one_cpu(hub.settings.cpu, index=int(index) if index.isdigit() else None)
        exporter = _serve_metrics(metrics_port) if metrics_port is not None else None
    except BaseException:
        hub.close()
        raise
    running = Worker(hub, threads=threads)
    scheduler = Scheduler(hub)
    stop = StopSignal()
    running.start()
    scheduler.start()
    err.print(f"worker {running.name} running with {running.threads} threads")
    if on_cpu:
        err.print(on_cpu)
    settle_collector()
    _wait_for_stop(stop)
    scheduler.stop()
    running.stop()
    if exporter is not None:
        exporter.shutdown()
    hub.close()


SUPERVISOR = "ORDERHUB_WORKER_SUPERVISOR"
"""Set by `worker --processes N` in its worker processes' environment: its own pid."""
WORKER_INDEX = "ORDERHUB_WORKER_INDEX"
"""Set by `worker --processes N` in its worker processes' environment: 0 to N-1."""


def _keep_to_one_cpu(setting: str, *, index: int | None = None) -> str:
    """Run this process on one CPU (ORDERHUB_CPU; see `orderhub.cpus`); the line that
    says which, or "" when the process is left to the operating system."""
    from orderhub.cpus import pin_process

    cpu = pin_process(setting, index=index)
    return "" if cpu is None else f"running on CPU {cpu} (ORDERHUB_CPU={setting})"


class StopSignal:
    """SIGTERM or SIGINT received. A handler runs in the main thread between any two of
    its steps, even inside a lock the main thread holds (an Event's, while it waits on
    it), so it takes no lock: it notes the signal, and the main thread looks every tenth
    of a second. A second signal while the first is handled then changes nothing."""

    def __init__(self, then: Callable[[int], None] | None = None) -> None:
        import signal

        self.received: int | None = None
        self._then = then
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: Any) -> None:
        self.received = signum
        if self._then is not None:
            self._then(signum)

    def wait(self, seconds: float | None = None) -> bool:
        """True once a signal came; False after `seconds` without one."""
        import time

        end = None if seconds is None else time.monotonic() + seconds
        while self.received is None:
            left = 0.1 if end is None else min(0.1, end - time.monotonic())
            if left <= 0:
                return False
            time.sleep(left)
        return True


def _wait_for_stop(stop: StopSignal) -> None:
    """Until SIGTERM or SIGINT; a worker process started by `worker --processes N` also
    stops when that process is gone (however it died), so none is left on its own."""
    import os

    supervisor = os.environ.get(SUPERVISOR, "")
    if not supervisor.isdigit():
        stop.wait()
        return
    while not stop.wait(1.0):
        if os.getppid() != int(supervisor):
            err.print("the process that started this worker is gone; stopping")
            return


RESTARTS_PER_MINUTE = 5
"""A worker process that dies is started again, up to this many times a minute in all."""


def _refuse_sqlite(processes: int) -> None:
    from orderhub.bootstrap import load_settings

    scheme = load_settings().database_url.partition(":")[0]
    if scheme.partition("+")[0] == "sqlite":
        raise ConfigurationError(
            f"--processes {processes} needs PostgreSQL: SQLite takes one writer at a time, "
            "so more worker processes would only wait for each other; run one"
        )


def _serve_metrics(port: int) -> Any:
    """This process's metrics on 127.0.0.1:`port`, from a thread; the server, to shut down."""
    from prometheus_client import start_http_server

    from orderhub.observability import metrics

    try:
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc}"
        ) from exc
    return server


def _run_processes(count: int, threads: int | None, metrics_port: int | None) -> None:
    """`count` processes of `orderhub worker`, each started again when it dies; SIGTERM
    and SIGINT are passed on to them and they are waited for."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from collections import deque
    from contextlib import suppress

    # Migrations and ORDERHUB_CONFIG once, here: a mistake is one sentence, not N crashes.
    open_hub(apply=True).close()
    children: list[subprocess.Popen[bytes]] = []

    def start(index: int) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", "from orderhub.cli import main; main()", "worker"]
        command += ["--processes", "1"]
        if threads is not None:
            command += ["--threads", str(threads)]
        if metrics_port is not None:
            command += ["--metrics-port", str(metrics_port + index)]
        env = {**os.environ, SUPERVISOR: str(os.getpid()), WORKER_INDEX: str(index)}
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env)
        err.print(f"worker process {index} started: pid {child.pid}")
        return child

    def forward(signum: int) -> None:
        for child in list(children):
            if child.returncode is None:
                with suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    stop = StopSignal(then=forward)
    children.extend(start(i) for i in range(count))
    exits: deque[float] = deque()
    gave_up = False
    while not gave_up and not stop.wait(0.5):
        for index, child in enumerate(children):
            code = child.poll()
            if code is None or stop.received is not None:
                continue
            now = time.monotonic()
            while exits and now - exits[0] > 60:
                exits.popleft()
            exits.append(now)
            if len(exits) > RESTARTS_PER_MINUTE:
                err.print(
                    f"worker process {index} (pid {child.pid}) exited with {code}, "
                    f"{len(exits)} exits within a minute; stopping every worker process"
                )
                gave_up = True
                break
            err.print(
                f"worker process {index} (pid {child.pid}) exited with {code}; starting it again"
            )
            children[index] = start(index)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait()
    if gave_up:
        raise typer.Exit(1)


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
