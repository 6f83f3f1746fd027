"""The finance ledger: balanced journal entries per refund and per disposition, pushed to the
finance system by a signed webhook and exported as CSV.

Entries are written by outbox handlers (``finance.journal``, ``stock.movement``), so they come
after the intake's commit and exactly once per idempotency key."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime

import httpx
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from hub.amazon.service import AMAZON_CHANNELS
from hub.intake.models import Intake, StockMovement
from hub.ledger import rules, states
from hub.ledger.models import Account, JournalEntry, JournalLine
from hub.models import insert_on_conflict, iso, utcnow
from hub.money import amount_text
from hub.orders.models import Order, OrderLine
from hub.outbox import service as outbox
from hub.refunds import actions
from hub.refunds.models import Refund, RefundAttempt
from hub.returns.models import ReturnLine
from hub.webhooks.signing import signature


class Unbalanced(ValueError):
    """An entry whose debits and credits differ: refused, never written."""


def chart(session: Session) -> dict[str, str]:
    """Role -> account code, creating the configured (or default) accounts on first use."""
    overrides = current_app.config.get("LEDGER_ACCOUNTS") or {}
    codes = dict(session.execute(sa.select(Account.role, Account.code)
                                 .where(Account.role.is_not(None))).all())
    missing = [{"code": overrides.get(role, {}).get("code", code),
                "name": overrides.get(role, {}).get("name", name), "kind": kind, "role": role,
                "active": True}
               for role, (code, name, kind) in rules.DEFAULT_CHART.items() if role not in codes]
    if missing:
        # Two workers journaling their first entries at once both find the chart missing:
        # the second insert waits for the first and then leaves its rows alone.
        session.execute(insert_on_conflict(session, Account).values(missing)
                        .on_conflict_do_nothing())
        codes.update((row["role"], row["code"]) for row in missing)
    return codes


def post(session: Session, *, source_type: str, source_id: int, currency: str,
         postings: list[rules.Posting], memo: str, key: str) -> JournalEntry | None:
    """Write one balanced entry; the same key twice is the same entry."""
    existing = session.scalar(sa.select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if existing is not None or not postings:
        return existing
    if not rules.balanced(postings):
        raise Unbalanced(f"entry {key} does not balance")
    codes = chart(session)
    webhook = bool(current_app.config.get("FINANCE_WEBHOOK_URL"))
    entry = JournalEntry(source_type=source_type, source_id=source_id, currency=currency,
                         memo=memo[:300], idempotency_key=key,
                         status="pending" if webhook else "recorded")
    entry.lines = [JournalLine(account_code=codes[p.role], debit=p.debit, credit=p.credit,
                               memo=p.memo[:200]) for p in postings]
    session.add(entry)
    session.flush()
    if webhook:
        outbox.emit(session, "finance.push", {"entry_id": entry.id},
                    dedupe_key=f"journal:{entry.id}:push")
    return entry


def _refund_components(refund: Refund) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in refund.lines:
        for component in line.components:
            totals[component["type"]] = totals.get(component["type"], 0) + \
                component["amount_minor"]
    return totals


def _clearing_role(refund: Refund) -> str:
    return "amazon_clearing" if refund.channel in AMAZON_CHANNELS else "refunds_payable"


def refund_postings(refund: Refund) -> list[rules.Posting]:
    return rules.refund_postings(_refund_components(refund), _clearing_role(refund))


def refund_journal_total(session: Session, refund: Refund) -> int:
    """What the refund's journal entries add up to on the account the money leaves from: the
    money the ledger says went to the shopper for this refund."""
    code = chart(session)[_clearing_role(refund)]
    return int(session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(JournalLine.credit - JournalLine.debit), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_type == "refund", JournalEntry.source_id == refund.id,
               JournalLine.account_code == code)))


CORRECTION_MEMOS = {
    "refund_reversal": "Reversal: Amazon refused refund {id} ({code})",
    "refund_repost": "Refund {id} again: Amazon paid it after all (retried by HQ)",
}


@outbox.handler("finance.journal")
def journal_refund(session: Session, message) -> None:
    """The refund's entry when the counter completes it; afterwards each message brings the
    refund's journal to what its current status owes (a reversal when Amazon refused it, the
    refund again when a retry was paid), so messages delivered late, twice or out of order
    never leave the journal off from the money that moved."""
    kind = message.payload.get("kind", "refund")
    refund = session.get(Refund, message.payload["refund_id"],
                         options=[selectinload(Refund.lines)],
                         with_for_update=kind != "refund")  # one correction at a time
    if refund is None:
        raise LookupError(f"refund {message.payload['refund_id']} does not exist")
    postings = refund_postings(refund)
    if kind == "refund":
        post(session, source_type="refund", source_id=refund.id, currency=refund.currency,
             postings=postings, key=f"refund:{refund.id}",
             memo=f"Refund {refund.id} for return intake {refund.intake_id}")
        return
    if session.scalar(sa.select(JournalEntry.id)
                      .where(JournalEntry.idempotency_key == f"refund:{refund.id}")) is None:
        # The counter's entry is still on its way (its message failed once): correct it
        # only once it exists, or the correction would be taken back by it.
        raise LookupError(f"refund {refund.id} has no journal entry yet")
    total = sum(_refund_components(refund).values())
    correction = rules.refund_correction(postings, total=total,
                                         carried=refund_journal_total(session, refund),
                                         target=rules.owed(refund.status, total))
    post(session, source_type="refund", source_id=refund.id, currency=refund.currency,
         postings=correction, key=message.dedupe_key,
         memo=CORRECTION_MEMOS.get(kind, "Correction of refund {id}").format(
             id=refund.id, code=refund.failure_code or "refused"))


@actions.on_enter("succeeded")
def _repost_after_refusal(session: Session, refund: Refund, _before: str) -> None:
    """Amazon paid a refund it had refused before (HQ retried it): the reversal posted at the
    refusal is taken back by posting the refund again. One message per paid attempt; the
    handler posts only what the journal lacks, so a refusal without a reversal adds nothing."""
    refused = session.scalar(sa.select(sa.func.count()).select_from(RefundAttempt).where(
        RefundAttempt.refund_id == refund.id, RefundAttempt.outcome == "failed"))
    if refused:
        attempts = session.scalar(sa.select(sa.func.count()).select_from(RefundAttempt)
                                  .where(RefundAttempt.refund_id == refund.id))
        outbox.emit(session, "finance.journal",
                    {"refund_id": refund.id, "kind": "refund_repost"},
                    dedupe_key=f"refund:{refund.id}:repost:{attempts}")


@outbox.handler("stock.movement")
def journal_dispositions(session: Session, message) -> None:
    """Each accepted unit at its estimated cost: back into inventory or written off."""
    percent = int(current_app.config.get("LEDGER_COST_PERCENT", 50))
    rows = session.execute(
        sa.select(StockMovement, OrderLine, Order.currency)
        .join(ReturnLine, ReturnLine.id == StockMovement.return_line_id)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Intake, Intake.rma_id == ReturnLine.rma_id)
        .where(Intake.id == message.payload["intake_id"])).all()
    for movement, line, currency in rows:
        cost = line.item_price // max(line.quantity, 1) * percent // 100
        post(session, source_type="disposition", source_id=movement.id, currency=currency,
             postings=rules.disposition_postings(movement.disposition, cost),
             key=f"disposition:{movement.id}",
             memo=f"{movement.disposition} of {movement.sku} at store {movement.store_id}")


# --- pushing to finance -------------------------------------------------------------------------

@outbox.handler("finance.push")
def push_entry(session: Session, message) -> None:
    """POST the entry to the finance system, signed; the entry's idempotency key lets the
    receiver drop our retries. A failure raises, so the outbox retries with back-off."""
    entry = session.get(JournalEntry, message.payload["entry_id"],
                        options=[selectinload(JournalEntry.lines)])
    if entry is None or entry.status == "posted":
        return
    url = current_app.config.get("FINANCE_WEBHOOK_URL")
    secret = current_app.config.get("FINANCE_WEBHOOK_SECRET") or ""
    body = json.dumps(entry_to_dict(entry), separators=(",", ":")).encode()
    timestamp = int(time.time())
    try:
        response = httpx.post(url, content=body, timeout=10, headers={
            "Content-Type": "application/json", "Idempotency-Key": entry.idempotency_key,
            "X-Homing-Signature": signature(secret, timestamp, body)})
    except httpx.HTTPError as exc:
        states.move(entry, "failed")
        entry.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        raise
    if not 200 <= response.status_code < 300:
        states.move(entry, "failed")
        entry.last_error = f"HTTP {response.status_code}: {response.text[:300]}"
        raise RuntimeError(entry.last_error)
    states.move(entry, "posted")
    entry.posted_at, entry.last_error = utcnow(), ""
    try:
        entry.external_ref = str(response.json().get("id", ""))[:120]
    except ValueError:
        entry.external_ref = ""


# --- reading -------------------------------------------------------------------------------------

def entries(session: Session, *, since: datetime | None = None, until: datetime | None = None,
            source: str | None = None, limit: int = 500) -> list[JournalEntry]:
    query = sa.select(JournalEntry).options(selectinload(JournalEntry.lines))
    if since:
        query = query.where(JournalEntry.created_at >= since)
    if until:
        query = query.where(JournalEntry.created_at < until)
    if source:
        query = query.where(JournalEntry.source_type == source)
    return list(session.scalars(query.order_by(JournalEntry.id).limit(limit)))


def entry_to_dict(entry: JournalEntry) -> dict:
    return {"id": entry.id, "source_type": entry.source_type, "source_id": entry.source_id,
            "currency": entry.currency, "memo": entry.memo, "status": entry.status,
            "idempotency_key": entry.idempotency_key,
            "created_at": iso(entry.created_at), "posted_at": iso(entry.posted_at),
            "external_ref": entry.external_ref, "last_error": entry.last_error,
            "lines": [{"account": ln.account_code, "debit": amount_text(ln.debit, entry.currency),
                       "credit": amount_text(ln.credit, entry.currency), "memo": ln.memo}
                      for ln in entry.lines]}


def entries_csv(rows: list[JournalEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["entry_id", "created_at", "source_type", "source_id", "status", "currency",
                     "account", "debit", "credit", "memo"])
    for entry in rows:
        for ln in entry.lines:
            writer.writerow([entry.id, iso(entry.created_at), entry.source_type,
                             entry.source_id, entry.status, entry.currency, ln.account_code,
                             amount_text(ln.debit, entry.currency),
                             amount_text(ln.credit, entry.currency), ln.memo])
    return out.getvalue()
