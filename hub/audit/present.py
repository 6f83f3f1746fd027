"""How an audit event, or a step of a return's timeline, reads to a person: what happened as a
sentence id and each change as a labelled field with typed values (an amount with its
currency, a person, a status, a grade). Pure: no Flask, no database. The view translates the
ids, looks people up by id and formats amounts and times for the reader's locale and zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.intake.inspection import DISPOSITION_LABELS, GRADE_LABELS, REJECT_REASONS
from hub.text import N_

ACTIONS = {
    "return.issued": N_("Return authorised"),
    "return.cancelled": N_("Return cancelled"),
    "return.expired": N_("Return expired"),
    "return.hq_reviewed": N_("Reviewed by HQ"),
    "intake.opened": N_("Scanned at the counter"),
    "intake.reopened": N_("Scanned again at the counter"),
    "intake.unit_recorded": N_("Unit checked"),
    "intake.photo_added": N_("Photo taken"),
    "intake.approval_requested": N_("Sent to the supervisor"),
    "intake.approval_declined": N_("Sent back by the supervisor"),
    "intake.completed": N_("Check-in completed"),
    "intake.abandoned": N_("Check-in stopped"),
    "refund.submitted": N_("Refund sent to Amazon"),
    "refund.succeeded": N_("Amazon confirmed the refund"),
    "credit_note.issued": N_("VAT credit note issued"),
    "credit_note.submitted": N_("VAT credit note uploaded to Amazon"),
    "credit_note.unsure": N_("VAT credit note upload unconfirmed"),
    "credit_note.accepted": N_("Amazon accepted the VAT credit note"),
    "credit_note.rejected": N_("Amazon rejected the VAT credit note"),
    "credit_note.corrected": N_("VAT credit note corrected under a new number"),
    "refund.failed": N_("Amazon refused the refund"),
    "refund.skipped": N_("Refund not sent: Amazon refunded already"),
    "refund.sold_by_amazon": N_("Order sold by Amazon: Amazon refunds it"),
    "vendor.receipt_opened": N_("VRET shipment opened at the counter"),
    "vendor.units_counted": N_("Units counted"),
    "vendor.units_uncounted": N_("Count removed"),
    "vendor.photo_added": N_("Photo of the VRET shipment"),
    "vendor.receipt_closed": N_("VRET shipment received"),
    "vendor.export_imported": N_("Vendor Central export imported"),
    "vendor.difference_found": N_("Difference with Amazon's charge found"),
    "vendor.difference_gone": N_("Difference matched after all"),
    "vendor.dispute_disputed": N_("Disputed in Vendor Central"),
    "vendor.dispute_won": N_("Dispute won"),
    "vendor.dispute_lost": N_("Dispute lost"),
    "vendor.dispute_dismissed": N_("Dispute dropped"),
    "vendor.credit_note_written": N_("Returns credit note written"),
    "vendor.credit_note_submitted": N_("Credit note sent to Amazon"),
    "vendor.credit_note_accepted": N_("Amazon accepted the credit note"),
    "vendor.credit_note_rejected": N_("Amazon rejected the credit note"),
    "vendor.credit_note_unsure": N_("No answer from Amazon for the credit note"),
    "vendor.credit_note_superseded": N_("Credit note corrected under a new number"),
    "vendor.credit_note_checked": N_("Credit note checked in Vendor Central"),
    "refund.amazon_refunded": N_("Amazon refunded the shopper itself"),
    "refund.manual": N_("Refund left to finance (no Amazon channel)"),
    "refund.settled": N_("Refund settled by Amazon"),
    "refund.retried": N_("Refund retried by HQ"),
    "refund.throttled": N_("Amazon asked to wait (throttled)"),
    "refund.sla_reminder": N_("Refund deadline reminder sent"),
    "journal.refund": N_("Journal entry for the refund"),
    "journal.reversal": N_("Journal: refund reversed (no money left)"),
    "journal.repost": N_("Journal: refund posted again (Amazon paid)"),
    "journal.disposition": N_("Journal entry for the stock"),
    "amazon.settled": N_("In Amazon's settlement"),
    "order.created": N_("Order imported"),
    "order.updated": N_("Order updated"),
    "outbox.replayed": N_("Delivery replayed"),
    "reconciliation.resolved": N_("Settlement difference resolved"),
    "policy.published": N_("Policy published"),
    "store.updated": N_("Store updated"),
    "stores.imported": N_("Stores imported"),
    "user.created": N_("Person added"),
    "user.activated": N_("Person re-activated"),
    "user.deactivated": N_("Person deactivated"),
    "user.unlocked": N_("PIN lock lifted"),
    "user.signed_in": N_("Signed in"),
    "api_key.created": N_("API key created"),
    "api_key.revoked": N_("API key revoked"),
    "device.enrolled": N_("Tablet enrolled"),
    "device.revoked": N_("Tablet revoked"),
    "blocklist.added": N_("Added to the blocklist"),
    "blocklist.removed": N_("Removed from the blocklist"),
    "job.paused": N_("Job paused"),
    "job.resumed": N_("Job resumed"),
}

STATUSES = {
    # returns
    "issued": N_("issued"), "dropped_off": N_("dropped off"), "completed": N_("completed"),
    "cancelled": N_("cancelled"), "expired": N_("expired"),
    # refunds
    "pending": N_("pending"), "queued": N_("waiting for the next feed"),
    "submitting": N_("being sent"), "submitted": N_("sent to Amazon"),
    "succeeded": N_("paid by Amazon"), "failed": N_("refused by Amazon"),
    "amazon_refunded": N_("refunded by Amazon itself"), "manual": N_("paid by finance"),
    "settled": N_("settled"),
    # intakes and journal entries
    "open": N_("being checked"), "awaiting_approval": N_("waiting for a supervisor"),
    "abandoned": N_("stopped"), "recorded": N_("recorded"), "posted": N_("posted"),
}
APPROVALS = {"amount": N_("above the clerk's amount limit"),
             "grade": N_("a low grade accepted"),
             "reason_mismatch": N_("not what the shopper said"),
             "risk": N_("flagged by the risk rules")}
RECEPTION = {"received": N_("received"), "missing": N_("missing"),
             "wrong_item": N_("wrong item")}
ACCEPTANCE = {"pending": N_("to check"), "accepted": N_("accepted"), "rejected": N_("rejected"),
              "needs_review": N_("needs review")}
VOUCHER = {"active": N_("active"), "used": N_("used"), "cancelled": N_("cancelled"),
           "expired": N_("expired")}
DECISIONS = {"accept": N_("accepted"), "reject": N_("rejected"),
             "approve": N_("approved"), "cancel": N_("cancelled"), "clear": N_("cleared")}

# key -> (label, kind). Kinds: money (minor units), user (an id), unit (a return line id),
# label (one of `labels`), list (of labels or text), flag, text.
FIELDS: dict[str, tuple[str, str]] = {
    "status": (N_("Status"), "status"),
    "expected_refund": (N_("Expected refund"), "money"),
    "refund": (N_("Refund"), "money"),
    "amount": (N_("Amount"), "money"),
    "units": (N_("Units"), "text"),
    "accepted": (N_("Accepted"), "text"),
    "rejected": (N_("Rejected"), "text"),
    "approved_by": (N_("Approved by"), "user"),
    "user": (N_("Person"), "user"),
    "unit": (N_("Unit"), "unit"),
    "reception": (N_("Handed in"), "reception"),
    "decision": (N_("Decision"), "decision"),
    "outcome": (N_("Outcome"), "decision"),
    "grade": (N_("Grade"), "grade"),
    "disposition": (N_("Goes to"), "disposition"),
    "reason": (N_("Reason"), "reject_reason"),
    "reasons": (N_("Why a supervisor"), "approval_list"),
    "offsite": (N_("Another store than routed to"), "flag"),
    "needs_hq_review": (N_("Waiting for HQ review"), "flag"),
    "risk_score": (N_("Risk score"), "text"),
    "return": (N_("Return"), "text"),
    "note": (N_("Note"), "text"),
    "failure_code": (N_("Amazon's code"), "text"),
    "errors": (N_("Amazon said"), "errors"),
    "feed_id": (N_("Feed"), "text"),
    "feed_status": (N_("Feed status"), "text"),
    "memo": (N_("Memo"), "text"),
    "settlement_id": (N_("Settlement"), "text"),
    "amount_type": (N_("Kind"), "text"),
    "role": (N_("Role"), "text"),
    "name": (N_("Name"), "text"),
    "email": (N_("E-mail"), "text"),
    "code": (N_("Code"), "text"),
    "version": (N_("Version"), "text"),
}
FIELD_LABELS = frozenset(label for label, _kind in FIELDS.values())
# Internal ids and plumbing a reader cannot use: never shown.
HIDDEN = frozenset({"currency", "order_id", "photo", "sha256", "entry_id", "message_id",
                    "hash", "prev_hash"})
LABELS = {"status": STATUSES, "reception": RECEPTION, "decision": DECISIONS,
          "acceptance": ACCEPTANCE, "voucher": VOUCHER,
          "grade": GRADE_LABELS, "disposition": DISPOSITION_LABELS,
          "reject_reason": REJECT_REASONS, "approval_list": APPROVALS}


@dataclass(frozen=True)
class Value:
    kind: str  # money | user | unit | label | flag | text | list
    raw: object
    currency: str = ""


@dataclass(frozen=True)
class Change:
    label: str  # an English message id
    before: Value | None
    after: Value | None


@dataclass(frozen=True)
class Reading:
    title: str  # an English message id, or the raw action when it has none
    changes: tuple[Change, ...]


def _value(kind: str, raw: object, currency: str) -> Value | None:
    if raw is None or raw == "" or raw == []:
        return None
    if kind == "money":
        return Value("money", int(raw), currency) if currency else Value("text", raw)
    if kind in ("user", "unit", "flag"):
        return Value(kind, raw)
    if kind == "errors":
        return Value("list", tuple(Value("text", e.get("description") or e.get("code", ""))
                                   for e in raw if isinstance(e, Mapping)))
    if kind == "approval_list":
        return Value("list", tuple(_value("approval", r, currency) for r in raw))
    if kind == "approval":
        return Value("label", APPROVALS[raw]) if raw in APPROVALS else Value("text", raw)
    if kind in LABELS:
        label = LABELS[kind].get(str(raw))
        return Value("label", label) if label else Value("text", raw)
    if isinstance(raw, (list, tuple)):
        return Value("list", tuple(Value("text", item) for item in raw))
    return Value("text", raw)


def describe(action: str, before: Mapping | None, after: Mapping | None, *,
             currency: str = "") -> Reading:
    """What an event says, field by field; ``currency`` is used for amounts when the event
    does not carry its own."""
    before, after = dict(before or {}), dict(after or {})
    currency = after.get("currency") or before.get("currency") or currency
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in HIDDEN:
            continue
        label, kind = FIELDS.get(key, (key.replace("_", " "), "text"))
        old = _value(kind, before.get(key), currency)
        new = _value(kind, after.get(key), currency)
        if old is None and new is None or old == new:
            continue
        if kind == "flag" and old is None and not new.raw:
            continue  # "offsite: no" on every scan says nothing
        changes.append(Change(label, old, new))
    return Reading(ACTIONS.get(action, action), tuple(changes))


def people(readings: list[Reading]) -> set[int]:
    """The user ids the readings name, to look their names up in one query."""
    ids: set[int] = set()
    for reading in readings:
        for change in reading.changes:
            for value in (change.before, change.after):
                if value is not None and value.kind == "user" and str(value.raw).isdigit():
                    ids.add(int(value.raw))
    return ids
