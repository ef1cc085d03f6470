"""Working through the exception queue: a person resolves the cause, the hub replays
the order (or the stored payload, or the dead job) from where it stopped.

`resolve_exception` carries out one of the actions the exception catalogue allows for
the exception's code (fix the address, map the SKU, release, retry, cancel, or dismiss
with a reason) in one transaction, then replays. Replaying or resolving an exception a
second time changes nothing and says so; whatever the replay left open about the same
order, payload or job is named as its successor. `resolve_by_code` does the same for
every open exception of one code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orderhub.domain.errors import IllegalTransition, NotFound, OrderhubError
from orderhub.domain.exceptions_catalog import RECEIVER_FIELDS, Action, check_action
from orderhub.domain.order import Order, OrderStatus
from orderhub.services.cancel import finish_cancel, tell_shop
from orderhub.services.hub import Hub
from orderhub.services.ingest import replay_inbox
from orderhub.services.node_callbacks import replay_node_callback
from orderhub.services.pipeline import JOB_NODE_PUSH, route, schedule_stock_push
from orderhub.services.tracking import replay_tracking_callback
from orderhub.store.records import ExceptionRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "Bulk",
    "Replayed",
    "replay_exception",
    "replay_order",
    "resolve_by_code",
    "resolve_exception",
    "retry_job",
]


@dataclass(frozen=True)
class Replayed:
    """What a replay did, in words, where the order stands now, and the exceptions now
    open about the same order, payload or job (the successors of this one)."""

    exception_id: str
    outcome: str
    order_id: str | None = None
    status: str | None = None
    now_open: tuple[str, ...] = ()


def _with_successors(hub: Hub, record: ExceptionRecord, result: Replayed) -> Replayed:
    with hub.reader() as uow:
        left = uow.exceptions.open_about(
            order_id=record.order_id, inbox_id=record.inbox_id, job_id=record.job_id
        )
        order = uow.orders.find(record.order_id) if record.order_id else None
    return Replayed(
        result.exception_id,
        result.outcome,
        result.order_id or (order.id if order else None),
        result.status or (order.status.value if order else None),
        tuple(x.id for x in left if x.id != record.id),
    )


def _already(hub: Hub, record: ExceptionRecord) -> Replayed:
    how = f": {record.resolution}" if record.resolution else ""
    return _with_successors(hub, record, Replayed(record.id, f"already resolved{how}"))


def replay_order(hub: Hub, order_id: str) -> str:
    """Route a held order again with today's catalogue, listings and stock; its status."""
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        if order.status is not OrderStatus.HELD:
            raise OrderhubError(f"order {order_id} is {order.status}, not held")
        shop = uow.catalog.shop(order.shop)
        uow.exceptions.resolve_for_order(order.id)
        order.move_to(OrderStatus.RECEIVED)
        uow.orders.trace(order.id, "replay", "ok", "replayed by a person")
        route(
            uow,
            order,
            shop,
            stock_window=hub.settings.stock_push_window,
            duplicate_window=hub.settings.duplicate_window,
        )
        uow.orders.set_status(order)
        uow.commit()
        return order.status.value


def retry_job(hub: Hub, job_id: int) -> bool:
    """Put a dead job back in the queue with fresh attempts; False if it is not dead.

    A push that died has already handed its orders to a person (held as node_rejected)
    and its dispatch is closed, so running it again would send nothing: retrying it
    routes those orders again instead, as a retry of their exception does.
    """
    with hub.uow() as uow:
        job = uow.outbox.kind_and_payload(job_id)
        if job is None or not uow.outbox.requeue(job_id):
            return False
        held: list[str] = []
        kind, payload = job
        if kind == JOB_NODE_PUSH:
            dispatch = uow.dispatches.get(str(payload.get("dispatch_id") or payload["order_id"]))
            orders = [uow.orders.get(x) for x in (dispatch.order_ids if dispatch else ())]
            held = [o.id for o in orders if o.status is OrderStatus.HELD]
        uow.commit()
    for order_id in held:
        replay_order(hub, order_id)
    return True


def replay_exception(hub: Hub, exception_id: str, *, by: str = "") -> Replayed:
    """Replay whatever the exception stopped: a held order, an unreadable payload, a
    dead job. An exception that stopped nothing is simply closed; one already closed is
    left as it is."""
    with hub.reader() as uow:
        record: ExceptionRecord = uow.exceptions.get(exception_id)
        order = uow.orders.find(record.order_id) if record.order_id else None
    if record.status != "open":
        return _already(hub, record)
    if record.job_id is not None:
        with hub.uow() as uow:
            requeued = uow.outbox.requeue(record.job_id)
            uow.exceptions.resolve(exception_id, resolution="retry: job queued again", by=by)
            uow.commit()
        outcome = "job queued again" if requeued else "closed (the job is no longer dead)"
        return _with_successors(hub, record, Replayed(exception_id, outcome, record.order_id))
    if order is not None and order.status is OrderStatus.HELD:
        status = replay_order(hub, order.id)
        result = Replayed(exception_id, "order routed again", order.id, status)
        return _with_successors(hub, record, result)
    if order is None and record.inbox_id:
        with hub.reader() as uow:
            item = uow.inbox.get(record.inbox_id)
        if item.status == "failed":
            replay = {
                "node": replay_node_callback,
                "tracker": replay_tracking_callback,
            }.get(item.source, replay_inbox)
            order_id = replay(hub, record.inbox_id)
            result = Replayed(exception_id, "payload mapped again", order_id)
            return _with_successors(hub, record, result)
    with hub.uow() as uow:
        uow.exceptions.resolve(exception_id, resolution="retry: nothing was stopped", by=by)
        uow.commit()
    return _with_successors(hub, record, Replayed(exception_id, "closed", record.order_id))


_CANCELLABLE = (OrderStatus.RECEIVED, OrderStatus.HELD, OrderStatus.RESERVED)


def resolve_exception(
    hub: Hub,
    exception_id: str,
    action: str,
    *,
    receiver: Mapping[str, str] | None = None,
    skus: Mapping[str, str] | None = None,
    note: str = "",
    by: str = "",
) -> Replayed:
    """Carry out `action` for an open exception, then replay what it stopped.

    `receiver` sets fields for `fix_address` (`{"phone": "13812348000"}`; a
    `receiver.` prefix is allowed); `skus` maps channel SKUs to ours for `map_sku`;
    `dismiss` needs the reason in `note`. An action the catalogue does not allow for the
    code raises ActionNotAllowed; an exception already closed is left as it is.
    """
    with hub.reader() as uow:
        record = uow.exceptions.get(exception_id)
    if record.status != "open":
        return _already(hub, record)
    chosen = check_action(record.code, action, about_order=record.order_id is not None)
    why = f" ({note})" if note else ""
    if chosen is Action.DISMISS:
        return _dismiss(hub, record, note, by)
    if chosen is Action.RETRY:
        return replay_exception(hub, exception_id, by=by)
    if record.order_id is None:
        raise OrderhubError(f"exception {exception_id} is about no order; {chosen} needs one")
    with hub.uow() as uow:
        order = uow.orders.get(record.order_id, for_update=True)
        if chosen is Action.CANCEL:
            if order.status not in _CANCELLABLE:
                raise IllegalTransition(order.id, order.status, OrderStatus.CANCELLED)
            window = hub.settings.stock_push_window
            uow.exceptions.resolve(exception_id, resolution=f"cancel{why}", by=by)
            finish_cancel(uow, order, reason=f"cancelled by a person{why}", window=window)
            told = tell_shop(hub, uow, order)
            uow.commit()
            return Replayed(exception_id, f"order cancelled; {told}", order.id, order.status.value)
        if chosen is Action.FIX_ADDRESS:
            _fix_address(uow, order, receiver or {}, why)
        elif chosen is Action.MAP_SKU:
            _map_skus(hub, uow, order, skus or {}, why)
        else:
            # Released by a person: review rules and the duplicate check pass it from now on.
            order.approved = True
            uow.orders.set_status(order)
            uow.orders.trace(order.id, "resolve", "ok", f"hold released by a person{why}")
        uow.commit()
    if order.status is OrderStatus.HELD:
        return replay_exception(hub, exception_id, by=by)
    # Nothing is stopped (a warning on an order that moves on): the exception just closes.
    with hub.uow() as uow:
        uow.exceptions.resolve(exception_id, resolution=f"{chosen}{why}", by=by)
        uow.commit()
    return _with_successors(hub, record, Replayed(exception_id, "closed", order.id))


def _dismiss(hub: Hub, record: ExceptionRecord, reason: str, by: str) -> Replayed:
    """Close an exception without acting; the reason is kept beside it."""
    if not reason.strip():
        raise OrderhubError("dismiss needs a reason (--note), which is kept with the exception")
    with hub.uow() as uow:
        uow.exceptions.resolve(record.id, resolution=f"dismissed: {reason.strip()}", by=by)
        if record.order_id:
            uow.orders.trace(record.order_id, "resolve", "ok", f"{record.code} dismissed")
        uow.commit()
    result = _with_successors(hub, record, Replayed(record.id, "dismissed"))
    if result.status == OrderStatus.HELD.value and not result.now_open:
        return Replayed(
            result.exception_id,
            "dismissed; the order is still held: release or cancel it",
            result.order_id,
            result.status,
        )
    return result


@dataclass(frozen=True)
class Bulk:
    """What resolving every open exception of one code did."""

    code: str
    action: str
    results: tuple[Replayed, ...]
    refused: tuple[tuple[str, str], ...]  # (exception id, why)


def resolve_by_code(
    hub: Hub,
    code: str,
    action: str,
    *,
    receiver: Mapping[str, str] | None = None,
    skus: Mapping[str, str] | None = None,
    note: str = "",
    by: str = "",
    limit: int = 10_000,
) -> Bulk:
    """Resolve every open exception of `code` with the same action, e.g. map one SKU and
    replay the orders it held. Each is its own transaction; one that cannot be resolved
    is listed with its reason and the rest go on."""
    with hub.reader() as uow:
        open_ids = [x.id for x in uow.exceptions.search(status="open", code=code, limit=limit)]
    results, refused = [], []
    for exception_id in reversed(open_ids):  # oldest first
        try:
            results.append(
                resolve_exception(
                    hub, exception_id, action, receiver=receiver, skus=skus, note=note, by=by
                )
            )
        except OrderhubError as exc:
            refused.append((exception_id, str(exc)))
    return Bulk(code, action, tuple(results), tuple(refused))


def _fix_address(uow: UnitOfWork, order: Order, fields: Mapping[str, str], why: str) -> None:
    """Set receiver fields; saving the order encrypts them again."""
    names = {name.removeprefix("receiver."): value for name, value in fields.items()}
    if not names:
        raise OrderhubError("fix_address needs at least one receiver field to set")
    unknown = sorted(set(names) - RECEIVER_FIELDS)
    if unknown:
        raise OrderhubError(
            f"cannot set receiver.{unknown[0]}; settable: "
            + ", ".join(f"receiver.{f}" for f in sorted(RECEIVER_FIELDS))
        )
    for name, value in names.items():
        order.set_receiver(name, value.strip())
    uow.orders.save(order)
    # Field names only: the values are personal data.
    changed = ", ".join(f"receiver.{n}" for n in sorted(names))
    uow.orders.trace(order.id, "resolve", "ok", f"fix_address: set {changed}{why}")


def _map_skus(hub: Hub, uow: UnitOfWork, order: Order, skus: Mapping[str, str], why: str) -> None:
    """Add the shop's listings for the channel SKUs, as the configuration would."""
    if not skus:
        raise OrderhubError("map_sku needs at least one CHANNEL_SKU=OUR_SKU")
    known = uow.catalog.skus(sorted(set(skus.values())))
    missing = sorted(set(skus.values()) - set(known))
    if missing:
        raise NotFound("sku", missing[0])
    for channel_sku, sku in sorted(skus.items()):
        uow.catalog.put_listing(order.shop, channel_sku, sku)
    schedule_stock_push(uow, set(skus.values()), window=hub.settings.stock_push_window)
    mapped = ", ".join(f"{c} → {s}" for c, s in sorted(skus.items()))
    uow.orders.trace(order.id, "resolve", "ok", f"map_sku on {order.shop}: {mapped}{why}")
