"""A business buyer's return of units from many orders in one request (JSON lines or a CSV
of order, item, quantity, reason) under one RMA number. Every line is checked first; any
problem is reported with its line number and nothing is written."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.business.models import BusinessReturnBatch, BusinessReturnBatchMember
from hub.orders.models import Order
from hub.returns import service as returns
from hub.text import N_
from hub.validation import InvalidInput
from hub.vouchers import crypto

MAX_LINES = 500
COLUMNS = {"order": ("order", "order_id", "order id", "amazon order id"),
           "item": ("item", "item_id", "order item id", "sku", "asin"),
           "quantity": ("quantity", "qty"), "reason": ("reason", "reason_code")}


def _problem(line: int | str, template: str, **params) -> dict:
    """A problem on one line: English for the API, the template for the portal's language."""
    params = {"line": line, **params}
    return {"field": f"line {line}", "message": template % params, "template": template,
            "params": params}


@dataclass(frozen=True)
class BatchLine:
    line_no: int  # the CSV's line (header = 1) or the JSON list's position + 1
    order_id: str
    item: str
    quantity: int
    reason: str


def parse_csv(text: str) -> list[BatchLine]:
    """The CSV's lines; InvalidInput with every problem by line number."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        raise InvalidInput([_problem(1, N_("Line %(line)s: the file is empty."))])
    names = [h.strip().lower() for h in header]
    where = {key: next((names.index(a) for a in aliases if a in names), None)
             for key, aliases in COLUMNS.items()}
    missing = [k for k, i in where.items() if i is None]
    if missing:
        raise InvalidInput([_problem(1, N_("Line %(line)s: missing column(s) %(columns)s; "
                                           "the columns are order, item, quantity, reason."),
                                     columns=", ".join(missing))])
    raw = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw.append((number, {k: (row[i].strip() if i < len(row) else "")
                             for k, i in where.items()}))
    return check_lines(raw)


def parse_json(lines: object) -> list[BatchLine]:
    if not isinstance(lines, list):
        raise InvalidInput([{"field": "lines", "message": "must be a list of lines"}])
    raw = [(n, item if isinstance(item, dict) else {}) for n, item in enumerate(lines, 1)]
    return check_lines([(n, {"order": str(i.get("order_id") or ""),
                             "item": str(i.get("item_id") or ""),
                             "quantity": str(i.get("quantity") or ""),
                             "reason": str(i.get("reason") or "")}) for n, i in raw])


def check_lines(raw: list[tuple[int, dict[str, str]]]) -> list[BatchLine]:
    errors: list[dict] = []
    if not raw:
        errors.append({"field": "lines", "message": "no line to return",
                       "template": N_("There is no line to return.")})
    if len(raw) > MAX_LINES:
        raise InvalidInput([{"field": "lines", "message": f"at most {MAX_LINES} lines",
                             "template": N_("At most %(max)s lines; this request has "
                                            "%(count)s."),
                             "params": {"max": MAX_LINES, "count": len(raw)}}])
    out, seen = [], {}
    for number, cells in raw:
        if not cells["order"] or not cells["item"]:
            errors.append(_problem(number, N_("Line %(line)s: the order and the item are "
                                              "required.")))
            continue
        if not cells["quantity"].isdigit() or not 1 <= int(cells["quantity"]) <= 999:
            errors.append(_problem(number, N_("Line %(line)s: the quantity must be a whole "
                                              "number from 1 to 999.")))
            continue
        if not cells["reason"]:
            errors.append(_problem(number, N_("Line %(line)s: a reason is required.")))
            continue
        key = (cells["order"], cells["item"])
        if key in seen:
            errors.append(_problem(number, N_("Line %(line)s: the same item as line "
                                              "%(first)s."), first=seen[key]))
            continue
        seen[key] = number
        out.append(BatchLine(number, cells["order"][:40], cells["item"][:80],
                             int(cells["quantity"]), cells["reason"][:60]))
    if errors:
        raise InvalidInput(errors)
    return out


def create_batch(session: Session, lines: list[BatchLine], *, actor, keyring, secret: str,
                 latitude: float | None = None, longitude: float | None = None,
                 store_code: str | None = None, locale: str = "en",
                 link_base: str | None = None,
                 buyer_email: str | None = None) -> BusinessReturnBatch:
    """One return per order, all or none, under one batch number. InvalidInput names the
    lines at fault; the caller rolls back."""
    by_order: dict[str, list[BatchLine]] = {}
    for line in lines:
        by_order.setdefault(line.order_id, []).append(line)
    orders = {o.external_id: o for o in session.scalars(sa.select(Order).where(
        Order.channel == "amazon-business", Order.external_id.in_(list(by_order))))}
    if buyer_email is not None:  # the portal: only the signed-in buyer's own orders
        orders = {k: o for k, o in orders.items() if o.buyer_email == buyer_email}
    errors = [_problem(ln.line_no, N_("Line %(line)s: %(order)s is not one of your Amazon "
                                      "Business orders."), order=ln.order_id)
              for order_id, group in by_order.items() if order_id not in orders
              for ln in group]
    buyers = {o.buyer_email for o in orders.values()}
    if len(buyers) > 1:
        errors.append({"field": "lines", "message": "all orders must be of the same buyer",
                       "template": N_("All orders must be of the same buyer.")})
        raise InvalidInput(errors)
    if not orders:
        raise InvalidInput(errors)
    rmas = []
    for order_id, group in by_order.items():  # every order checked, all problems reported
        if order_id not in orders:
            continue
        try:
            rmas.append(_one_order(session, orders[order_id], group, actor=actor,
                                   keyring=keyring, secret=secret, latitude=latitude,
                                   longitude=longitude, store_code=store_code, locale=locale,
                                   link_base=link_base))
        except InvalidInput as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    batch = BusinessReturnBatch(number=_new_number(session), buyer_email=buyers.pop())
    session.add(batch)
    session.flush()
    session.add_all(BusinessReturnBatchMember(batch_id=batch.id, rma_id=r.id) for r in rmas)
    session.flush()
    return batch


def _one_order(session: Session, order: Order, group: list[BatchLine], **kw):
    by_item = {}
    for line in order.lines:
        by_item[line.external_item_id] = line.external_item_id
        by_item.setdefault(line.sku, line.external_item_id)
        if line.asin:
            by_item.setdefault(line.asin, line.external_item_id)
    unknown = [_problem(ln.line_no, N_("Line %(line)s: %(item)s is not an item of order "
                                       "%(order)s."), item=ln.item, order=order.external_id)
               for ln in group if ln.item not in by_item]
    if unknown:
        raise InvalidInput(unknown)
    payload = {"lines": [{"item_id": by_item[ln.item], "quantity": ln.quantity,
                          "reason": ln.reason} for ln in group],
               "latitude": kw["latitude"], "longitude": kw["longitude"],
               "store_code": kw["store_code"], "locale": kw["locale"], "source": "api"}
    try:
        req = returns.parse_request(payload, order)
        return returns.create_return(session, order, req, actor=kw["actor"],
                                     keyring=kw["keyring"], secret=kw["secret"],
                                     link_base=kw["link_base"])
    except InvalidInput as exc:
        raise InvalidInput([_on_line(e, group) for e in exc.errors]) from exc
    except returns.ReturnConflict as exc:
        raise InvalidInput([_problem(ln.line_no, N_("Line %(line)s: already being returned "
                                                    "in another request."))
                            for ln in group]) from exc


def _on_line(error: dict, group: list[BatchLine]) -> dict:
    """A return's problem ("lines[1].quantity") told by the CSV line it came from."""
    field = str(error.get("field", ""))
    if field.startswith("lines[") and "]" in field:
        index = int(field[6:field.index("]")])
        if 0 <= index < len(group):
            return {**error, "field": f"line {group[index].line_no}"}
    lines = ", ".join(str(ln.line_no) for ln in group)
    return {**error, "field": f"line{'s' if len(group) > 1 else ''} {lines}"}



def _new_number(session: Session) -> str:
    while True:
        number = "B" + "".join(secrets.choice(crypto.ALPHABET) for _ in range(8))
        if session.scalar(sa.select(BusinessReturnBatch.id)
                          .where(BusinessReturnBatch.number == number)) is None:
            return number


def batch_returns(session: Session, batch: BusinessReturnBatch) -> list:
    from hub.returns.models import ReturnAuthorization

    return list(session.scalars(
        sa.select(ReturnAuthorization).join(
            BusinessReturnBatchMember, BusinessReturnBatchMember.rma_id == ReturnAuthorization.id)
        .where(BusinessReturnBatchMember.batch_id == batch.id)
        .order_by(ReturnAuthorization.id)))
