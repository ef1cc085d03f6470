"""A stocktake uploaded as a spreadsheet: checked and previewed first, applied on request.

The file (CSV or an Excel workbook) has one row per node and SKU counted. The preview
changes nothing: per row it shows the hub's on-hand stock now, the count and the
difference, and every problem by row and column. It answers with the file's digest;
apply is given the file again with that digest and refuses a file that differs, so
what is applied is what was shown. Apply sets each level to its count against the
level at that moment: stock that moved after the preview (an order shipped, a
return restocked) does not bend the count, the difference written to the ledger is
the one at apply time, and the apply answers with those differences.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from zipfile import BadZipFile

from orderhub.domain.access import Principal
from orderhub.domain.errors import OrderhubError
from orderhub.services.audit import record
from orderhub.services.hub import Hub
from orderhub.services.inventory import MAX_ADJUSTMENT, QUANTITY_HEADERS, SKU_HEADERS
from orderhub.services.pipeline import schedule_stock_push, stock_arrived
from orderhub.store.stock import LedgerEntry

__all__ = [
    "StocktakeChanged",
    "StocktakeLine",
    "StocktakePreview",
    "StocktakeProblem",
    "StocktakeRefused",
    "apply_stocktake_file",
    "digest_of",
    "preview_stocktake_file",
    "sku_ledger",
]

NODE_HEADERS = ("node", "warehouse", "仓库", "仓库编码", "节点")


@dataclass(frozen=True)
class StocktakeProblem:
    """Something wrong in the file, where a person finds it."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class StocktakeLine:
    """One counted row: the hub's on-hand stock, the count and the difference."""

    row: int
    node: str
    sku: str
    on_hand: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_hand


@dataclass(frozen=True)
class StocktakePreview:
    """What applying the file would do, and the digest apply must be given."""

    digest: str
    lines: list[StocktakeLine] = field(default_factory=list)
    problems: list[StocktakeProblem] = field(default_factory=list)


class StocktakeRefused(OrderhubError):
    """A file with problems: nothing was applied."""

    def __init__(self, problems: list[StocktakeProblem]) -> None:
        super().__init__(f"the stocktake has {len(problems)} problem(s); nothing was applied")
        self.problems = problems


class StocktakeChanged(OrderhubError):
    """The file sent to apply is not the one previewed."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(data: bytes) -> list[list[str]]:
    if data[:2] == b"PK":
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise StocktakeRefused([StocktakeProblem(0, "", "not an Excel workbook")]) from exc
        try:
            sheet = book.active
            values = [] if sheet is None else list(sheet.iter_rows(values_only=True))
        finally:
            book.close()
        return [["" if v is None else str(v) for v in row] for row in values]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            problem = StocktakeProblem(0, "", "neither UTF-8 nor GBK text: save as CSV or .xlsx")
            raise StocktakeRefused([problem]) from exc
    return list(csv.reader(io.StringIO(text)))


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def _count(raw: str) -> int | None:
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        return None
    if value < 0 or value != int(value) or value > MAX_ADJUSTMENT:
        return None
    return int(value)


def _read(data: bytes) -> tuple[list[tuple[int, str, str, int]], list[StocktakeProblem]]:
    """(row, node, sku, counted) per row, and the problems of the rows that are wrong."""
    rows = _rows(data)
    if not rows:
        return [], [StocktakeProblem(0, "", "the file is empty")]
    header = [h.strip().lower() for h in rows[0]]
    cols = {
        "node": _column(header, NODE_HEADERS),
        "sku": _column(header, SKU_HEADERS),
        "quantity": _column(header, QUANTITY_HEADERS),
    }
    missing = [name for name, col in cols.items() if col is None]
    if missing:
        return [], [
            StocktakeProblem(1, name, "the first row must name this column") for name in missing
        ]
    counted: list[tuple[int, str, str, int]] = []
    problems: list[StocktakeProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = {
            n: row[c].strip() if c is not None and c < len(row) else "" for n, c in cols.items()
        }
        for name in ("node", "sku"):
            if not cell[name]:
                problems.append(StocktakeProblem(number, name, f"no {name}"))
        quantity = _count(cell["quantity"])
        if quantity is None:
            problems.append(
                StocktakeProblem(number, "quantity", f"{cell['quantity']!r} is not a whole count")
            )
        key = (cell["node"], cell["sku"])
        twice = key in seen and all(key)
        if twice:
            problems.append(
                StocktakeProblem(
                    number, "sku", f"{key[1]} at {key[0]} is counted in row {seen[key]} too"
                )
            )
        seen.setdefault(key, number)
        if all(key) and quantity is not None and not twice:
            counted.append((number, key[0], key[1], quantity))
    if not counted and not problems:
        problems.append(StocktakeProblem(2, "", "the file counts nothing"))
    return counted, problems


def _check(hub: Hub, data: bytes) -> StocktakePreview:
    counted, problems = _read(data)
    with hub.reader() as uow:
        nodes = {n.code for n in uow.catalog.nodes()}
        known = uow.catalog.known_skus(sorted({sku for _, _, sku, _ in counted}))
        levels = {(x.node, x.sku): x.on_hand for x in uow.stock.levels(nodes=sorted(nodes))}
    lines = []
    for number, node, sku, quantity in counted:
        if node not in nodes:
            problems.append(StocktakeProblem(number, "node", f"no node {node}"))
        elif sku not in known:
            problems.append(StocktakeProblem(number, "sku", f"unknown SKU {sku}"))
        else:
            lines.append(StocktakeLine(number, node, sku, levels.get((node, sku), 0), quantity))
    problems.sort(key=lambda p: (p.row, p.column))
    return StocktakePreview(digest_of(data), lines, problems)


def preview_stocktake_file(hub: Hub, data: bytes) -> StocktakePreview:
    """Every line with its difference and every problem; nothing is changed."""
    return _check(hub, data)


def apply_stocktake_file(
    hub: Hub, data: bytes, *, digest: str, actor: Principal, name: str = ""
) -> list[StocktakeLine]:
    """Set every counted level, as one stocktake, if the file is the one previewed and
    has no problem; the lines that changed, against the levels at this moment."""
    if digest_of(data) != digest.strip().lower():
        raise StocktakeChanged(
            "the file is not the one previewed: preview it again before applying"
        )
    preview = _check(hub, data)
    if preview.problems:
        raise StocktakeRefused(preview.problems)
    reason = f"stocktake {name}".strip() + f" by {actor.name}"
    changed = []
    with hub.uow() as uow:
        for line in preview.lines:
            before = uow.stock.level(line.node, line.sku)
            on_hand = before.on_hand if before else 0
            if uow.stock.set_on_hand(line.node, line.sku, line.counted, reason=reason):
                changed.append(StocktakeLine(line.row, line.node, line.sku, on_hand, line.counted))
        touched = {x.sku for x in changed}
        schedule_stock_push(uow, touched, window=hub.settings.stock_push_window)
        increased = {x.sku for x in changed if x.difference > 0}
        if increased:
            stock_arrived(uow, increased)
        record(
            uow,
            actor,
            "stock.stocktake",
            name or digest[:12],
            after={
                "digest": preview.digest,
                "lines": len(preview.lines),
                "changed": [
                    {"node": x.node, "sku": x.sku, "from": x.on_hand, "to": x.counted}
                    for x in changed
                ],
            },
        )
        uow.commit()
    return changed


def sku_ledger(
    hub: Hub, node: str, sku: str, *, before_id: int | None = None, limit: int = 50
) -> list[LedgerEntry]:
    """A SKU's movements at a node, newest first, each with the balance after it."""
    with hub.reader() as uow:
        uow.catalog.node(node)
        return uow.stock.ledger(node, sku, before_id=before_id, limit=limit)
