"""Store stock: per store and SKU, kept from the brand's POS or ERP (a full count by CSV or
``PUT``, a change by the idempotent delta endpoint) and moved by Homing's own restocks. Every
change is a ``StockChange`` row and a ``stock.moved`` webhook event, in the caller's
transaction; a change that would take a store below zero is refused and changes nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.models import insert_on_conflict
from hub.stock.models import StockChange, StoreStock
from hub.stores.models import Store
from hub.validation import InvalidInput
from hub.webhooks import service as webhooks

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$")
MAX_QUANTITY = 1_000_000_000
MAX_DELTA = 1_000_000
MAX_ROWS = 100_000
REFERENCE_LENGTH = 120


class NotEnoughStock(Exception):
    """The change would take the store's stock of the SKU below zero."""

    def __init__(self, sku: str, have: int, delta: int):
        super().__init__(f"{sku}: the store holds {have}, the change is {delta}")
        self.sku, self.have, self.delta = sku, have, delta


@dataclass(frozen=True)
class Change:
    sku: str
    delta: int
    quantity: int
    replayed: bool = False


def _row(session: Session, store_id: int, sku: str) -> StoreStock:
    """The stock row, locked: created at zero first, so two changes at once queue up."""
    session.execute(insert_on_conflict(session, StoreStock)
                    .values(store_id=store_id, sku=sku, quantity=0)
                    .on_conflict_do_nothing())
    return session.scalar(sa.select(StoreStock).where(StoreStock.store_id == store_id,
                                                      StoreStock.sku == sku)
                          .with_for_update().execution_options(populate_existing=True))


def quantity(session: Session, store_id: int, sku: str) -> int:
    return session.scalar(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store_id, StoreStock.sku == sku)) or 0


def adjust(session: Session, store: Store, sku: str, delta: int, *, reason: str,
           reference: str = "", key: str | None = None) -> Change:
    """Add ``delta`` (negative: take away) to the store's stock of ``sku``. The same ``key``
    twice is one change (the second answers the first)."""
    if key is not None:
        done = session.scalar(sa.select(StockChange).where(StockChange.key == key))
        if done is not None:
            return Change(done.sku, done.delta, done.quantity_after, replayed=True)
    row = _row(session, store.id, sku)
    if row.quantity + delta < 0:
        raise NotEnoughStock(sku, row.quantity, delta)
    return _record(session, store, row, delta, reason=reason, reference=reference, key=key)


def _record(session: Session, store: Store, row: StoreStock, delta: int, *, reason: str,
            reference: str, key: str | None) -> Change:
    row.quantity += delta
    change = StockChange(store_id=store.id, sku=row.sku, delta=delta,
                         quantity_after=row.quantity, reason=reason,
                         reference=reference[:REFERENCE_LENGTH], key=key)
    session.add(change)
    session.flush()
    if delta:
        webhooks.publish(session, "stock.moved", {
            "store": store.code, "sku": row.sku, "delta": delta, "quantity": row.quantity,
            "reason": reason, "reference": change.reference},
            key=f"stock:{change.id}", store_id=store.id)
    return Change(row.sku, delta, row.quantity)


def set_counts(session: Session, store: Store, counts: Mapping[str, int], *,
               replace: bool, reference: str = "") -> list[Change]:
    """The POS's count: each SKU set to its quantity. ``replace``: the count is the store's
    whole stock, so SKUs it does not list go to zero."""
    skus = set(counts)
    if replace:
        skus |= set(session.scalars(sa.select(StoreStock.sku).where(
            StoreStock.store_id == store.id, StoreStock.quantity > 0)))
    changes = []
    for sku in sorted(skus):
        row = _row(session, store.id, sku)
        delta = counts.get(sku, 0) - row.quantity
        if delta:
            changes.append(_record(session, store, row, delta, reason="set",
                                   reference=reference, key=None))
    return changes


# --- reading what the POS sends --------------------------------------------------------------

def parse_counts(items: object, *, field: str = "items") -> dict[str, int]:
    """``[{"sku", "quantity"}]`` -> {sku: quantity}; every problem reported, by position."""
    if not isinstance(items, list) or len(items) > MAX_ROWS:
        raise InvalidInput([{"field": field, "code": "invalid_items",
                             "message": f"a list of at most {MAX_ROWS} {{sku, quantity}}"}])
    problems: list[dict] = []
    counts: dict[str, int] = {}
    for index, item in enumerate(items):
        path = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            problems.append({"field": path, "code": "invalid_item", "message": "an object"})
            continue
        sku, qty = check_sku(item.get("sku"), f"{path}.sku", problems), item.get("quantity")
        if not _whole(qty) or not 0 <= qty <= MAX_QUANTITY:
            problems.append({"field": f"{path}.quantity", "code": "invalid_quantity",
                             "message": f"a whole number from 0 to {MAX_QUANTITY}"})
        elif sku is not None:
            if sku in counts:
                problems.append({"field": f"{path}.sku", "code": "duplicate_sku",
                                 "message": f"{sku} is listed twice"})
            counts[sku] = qty
    if problems:
        raise InvalidInput(problems)
    return counts


def parse_csv(text: str) -> dict[str, dict[str, int]]:
    """A POS export: ``store,sku,quantity`` (a header row; ``store`` may be left out when
    the file is one store's, given by the caller as ""). Bad rows are reported by line."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not {"sku", "quantity"} <= set(header):
        raise InvalidInput([{"field": "line 1", "code": "invalid_header",
                             "message": "the header must name sku and quantity "
                                        "(and store, for several stores)"}])
    reader.fieldnames = header
    by_store: dict[str, list[dict]] = {}
    problems: list[dict] = []
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            problems.append({"field": f"line {line}", "code": "too_many_rows",
                             "message": f"at most {MAX_ROWS} rows"})
            break
        raw = (row.get("quantity") or "").strip()
        item = {"sku": (row.get("sku") or "").strip(),
                "quantity": int(raw) if raw.isascii() and raw.isdigit() else raw}
        by_store.setdefault((row.get("store") or "").strip(), []).append((line, item))
    result: dict[str, dict[str, int]] = {}
    for code, rows in by_store.items():
        try:
            result[code] = parse_counts([item for _, item in rows])
        except InvalidInput as exc:
            for error in exc.errors:
                index = int(error["field"].split("[")[1].split("]")[0])
                problems.append({**error, "field": f"line {rows[index][0]}"})
    if problems:
        raise InvalidInput(problems)
    return result


def check_sku(value: object, path: str, problems: list[dict]) -> str | None:
    if not isinstance(value, str) or not SKU.match(value):
        problems.append({"field": path, "code": "invalid_sku",
                         "message": "1 to 80 letters, digits and . _ : / - "
                                    "(starting with a letter or digit)"})
        return None
    return value


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_delta(body: Mapping) -> tuple[str, int, str]:
    problems: list[dict] = []
    sku = check_sku(body.get("sku"), "sku", problems)
    delta = body.get("delta")
    if not _whole(delta) or delta == 0 or abs(delta) > MAX_DELTA:
        problems.append({"field": "delta", "code": "invalid_delta",
                         "message": f"a whole number from -{MAX_DELTA} to {MAX_DELTA}, not 0"})
    reference = body.get("reference", "")
    if not isinstance(reference, str) or len(reference) > REFERENCE_LENGTH \
            or any(ord(ch) < 32 for ch in reference):
        problems.append({"field": "reference", "code": "invalid_reference",
                         "message": f"text of at most {REFERENCE_LENGTH} characters"})
    if problems:
        raise InvalidInput(problems)
    return sku, delta, reference


def store_stock(session: Session, store: Store) -> list[StoreStock]:
    return list(session.scalars(sa.select(StoreStock).where(StoreStock.store_id == store.id)
                                .order_by(StoreStock.sku)))


def stock_to_dict(store: Store, rows: Iterable[StoreStock]) -> dict:
    return {"store": store.code,
            "items": [{"sku": r.sku, "quantity": r.quantity,
                       "updated_at": r.updated_at.isoformat()} for r in rows]}
