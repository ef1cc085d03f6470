"""What `orderhub serve` tells the person who starts it: where it listens, the address
each shop must send its webhooks to (registered on the shop where its API allows it),
the address each warehouse calls back, and how to make the first owner."""

from __future__ import annotations

from orderhub.services.hub import Hub

__all__ = ["announce"]


def announce(
    hub: Hub, *, listening: str, public_url: str | None, setup_code: str | None
) -> list[str]:
    """Plain lines to print at start; registers missing webhook subscriptions when the
    public address is known. A shop whose registration fails gets a sentence, not a crash."""
    base = (public_url or listening).rstrip("/")
    lines = [f"orderhub listening on {listening} (API documentation at {listening}/docs)"]
    with hub.reader() as uow:
        shops = uow.catalog.shops()
        nodes = uow.catalog.nodes()
    for shop in shops:
        address = f"{base}/webhooks/{shop.code}"
        channel = hub.channel(shop)
        topics = tuple(getattr(channel, "webhook_topics", ()))
        line = f"shop {shop.code} ({shop.platform}): webhooks to {address}"
        if topics:
            line += f" for {', '.join(topics)}"
        if public_url is None:
            line += "; set ORDERHUB_PUBLIC_URL to register them, or add them on the shop"
        elif topics:
            try:
                channel.register_webhooks(address=address, topics=topics)
                line += ": registered"
            except Exception as exc:  # any failure of one shop must not stop the server
                line += f": could not register them ({type(exc).__name__}: {exc})"
        lines.append(line)
    for node in nodes:
        if node.platform in ("qimen", "supplier_api"):
            lines.append(
                f"node {node.code} ({node.platform}): callbacks to {base}/callbacks/{node.code}"
                " (give this address to the warehouse or supplier)"
            )
    if setup_code:
        lines.append(
            f"no user exists yet: make the first owner with POST {base}/api/v1/setup and the "
            f"set-up code {setup_code}, or run `orderhub users create NAME --role owner`"
        )
    return lines
