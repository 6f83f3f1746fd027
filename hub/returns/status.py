"""Where a return is, as the person who sent it sees it: the steps done and to come, each with
its time, how much comes back and what happens next.

Pure: it takes the rows (return, units, intake, refunds) and gives plain data with message ids;
the status page and the e-mails translate them. Steps are in the order they happen: the
items are handed in when the clerk scans the voucher, checked until the intake is completed,
and refunded when every refund of the return is final (``hub.returns.completion``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A refund in one of these has reached its end for the shopper (``failed`` has not: HQ sends
# it again). ``manual``: a channel without an API, paid out by the team.
FINAL_REFUND = ("succeeded", "settled", "amazon_refunded", "manual")
OPEN_REFUND = ("pending", "queued", "submitting", "submitted")


@dataclass(frozen=True)
class Step:
    step: str  # issued | dropped_off | inspected | refunded | refund_manual | no_refund |
    #            refund_delayed | cancelled | expired
    state: str  # done | current | upcoming | problem
    at: datetime | None = None


@dataclass(frozen=True)
class ReturnStatus:
    phase: str  # issued | with_store | refund_on_its_way | refunded | refund_manual |
    #            refund_delayed | no_refund | cancelled | expired
    steps: list[Step]
    amount: int  # what comes back: the refunds once decided at the store, else the quote
    quoted: int
    final: bool  # the amount is the decided one (after the store checked the items)
    refunded_at: datetime | None = None
    refund_due_at: datetime | None = None
    show_voucher: bool = False
    show_store: bool = False
    explanations: list[Any] = field(default_factory=list)


def status_of(rma, intake=None, refunds: Sequence = (), refund_due_at: datetime | None = None
              ) -> ReturnStatus:
    """``rma``: a ReturnAuthorization; ``intake``: its completed Intake (or None); ``refunds``:
    its Refund rows."""
    done: list[Step] = [Step("issued", "done", rma.created_at)]
    if rma.status in ("cancelled", "expired"):
        at = rma.cancelled_at if rma.status == "cancelled" else rma.expires_at
        return ReturnStatus(rma.status, done + [Step(rma.status, "done", at)],
                            rma.expected_refund, rma.expected_refund, False)
    if rma.status == "issued":
        upcoming = [Step("dropped_off", "current"), Step("inspected", "upcoming"),
                    Step("refunded", "upcoming")]
        return ReturnStatus("issued", done + upcoming, rma.expected_refund, rma.expected_refund,
                            False, show_voucher=True, show_store=True)
    handed_in = intake.started_at if intake is not None else rma.dropped_off_at
    checked = intake.completed_at if intake is not None else rma.dropped_off_at
    done += [Step("dropped_off", "done", handed_in), Step("inspected", "done", checked)]
    amount = sum(r.amount for r in refunds)
    explanations = [e for r in refunds for e in (r.breakdown or {}).get("explanation", [])]
    phase, last = _refund_phase(rma, refunds, checked)
    return ReturnStatus(phase, done + [last], amount, rma.expected_refund, True,
                        refunded_at=last.at if phase in ("refunded", "refund_manual") else None,
                        refund_due_at=refund_due_at if phase in ("refund_on_its_way",
                                                                 "refund_delayed") else None,
                        explanations=explanations)


def _refund_phase(rma, refunds: Sequence, checked: datetime | None) -> tuple[str, Step]:
    if not refunds:
        return "no_refund", Step("no_refund", "done", checked)
    statuses = {r.status for r in refunds}
    if "failed" in statuses:
        return "refund_delayed", Step("refund_delayed", "problem",
                                      max(r.updated_at for r in refunds if r.status == "failed"))
    if statuses <= set(FINAL_REFUND):
        at = rma.completed_at or max((r.updated_at for r in refunds), default=None)
        if statuses == {"manual"}:
            return "refund_manual", Step("refund_manual", "done", at)
        return "refunded", Step("refunded", "done", at)
    return "refund_on_its_way", Step("refunded", "current")

