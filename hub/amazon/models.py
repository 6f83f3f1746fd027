from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, money_column, utcnow

SUBMISSION_STATES = ("building", "uploaded", "creating", "submitted", "done", "fatal",
                     "cancelled")
UNFINISHED = ("building", "uploaded", "creating", "submitted")


class FeedSubmission(Base):
    """One POST_PAYMENT_ADJUSTMENT_DATA feed carrying a batch of refunds (states and their
    rules in ``hub.amazon.submissions``).

    "creating" means createFeed may have reached Amazon and we do not know its feed id: only
    one submission per seller and marketplace may be in it (a partial unique index), and it
    leaves it only on Amazon's evidence."""

    __tablename__ = "amazon_feed_submissions"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_(SUBMISSION_STATES), name="status"),
        sa.Index("uq_amazon_feed_submissions_one_uncertain", "seller_id", "marketplace_id",
                 unique=True, postgresql_where=sa.text("status = 'creating'"),
                 sqlite_where=sa.text("status = 'creating'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[str] = mapped_column(sa.String(40))
    marketplace_id: Mapped[str] = mapped_column(sa.String(20))
    feed_type: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(20), default="building", index=True)
    feed_document_id: Mapped[str] = mapped_column(sa.String(200), default="")
    feed_id: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    message_count: Mapped[int] = mapped_column(default=0)
    processing_summary: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    # When the latest createFeed call went out, and its number: an answer that comes back
    # after another run has moved the submission on is recognised as late.
    create_started_at: Mapped[datetime | None]
    create_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Why the submission waits (a code HQ explains), and since when; "" when it does not.
    waiting_reason: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    waiting_since: Mapped[datetime | None]


FEED_ORIGINS = ("answer", "report", "void", "pending", "foreign")


class AmazonFeed(Base):
    """Every feed Homing knows exists at Amazon for its sellers, and whose it is.

    ``origin`` says how we know: ``answer`` (createFeed told us its id), ``report`` (found by
    listing, its processing report proved it carries this submission's messages), ``void``
    (found; Amazon cancelled it or it failed whole, so it applied nothing), ``pending`` (found;
    its report is not in yet) or ``foreign`` (found; its report matches none of ours)."""

    __tablename__ = "amazon_feeds"
    __table_args__ = (sa.CheckConstraint(sa.column("origin").in_(FEED_ORIGINS), name="origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    seller_id: Mapped[str] = mapped_column(sa.String(40))
    marketplace_id: Mapped[str] = mapped_column(sa.String(20))
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("amazon_feed_submissions.id"), index=True)
    origin: Mapped[str] = mapped_column(sa.String(12))
    processing_status: Mapped[str] = mapped_column(sa.String(20), default="")
    amazon_created_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The processing report's figures and the message ids it names, once read.
    evidence: Mapped[dict] = mapped_column(JsonDoc, default=dict)


class SettlementLine(Base):
    """A line of an Amazon settlement report or a financial event, kept for reconciliation."""

    __tablename__ = "amazon_settlement_lines"
    __table_args__ = (sa.UniqueConstraint("source", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(20))  # settlement | financial_event
    source_key: Mapped[str] = mapped_column(sa.String(120))  # stable id of the line at Amazon
    settlement_id: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    posted_at: Mapped[datetime | None]
    amazon_order_id: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    order_item_code: Mapped[str] = mapped_column(sa.String(40), default="")
    adjustment_item_id: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    transaction_type: Mapped[str] = mapped_column(sa.String(60), default="")
    amount_type: Mapped[str] = mapped_column(sa.String(60), default="")
    amount_description: Mapped[str] = mapped_column(sa.String(120), default="")
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = money_column()
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"), index=True)


class ReconciliationItem(Base):
    """A result of matching a settlement against Homing's refunds."""

    __tablename__ = "reconciliation_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"))
    adjustment_item_id: Mapped[str] = mapped_column(sa.String(40), default="")
    # matched | missing_at_amazon | missing_in_homing | amount_differs
    outcome: Mapped[str] = mapped_column(sa.String(24), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    homing_amount: Mapped[int] = money_column()
    amazon_amount: Mapped[int] = money_column()
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class ConnectorStatus(Base):
    """Health of each connector task (pull orders, push refunds, pull settlements, ...)."""

    __tablename__ = "connector_status"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(sa.String(1000), default="")
    throttled_total: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[dict] = mapped_column(JsonDoc, default=dict)  # e.g. last report date pulled
    # Set by an admin in HQ ("job:<name>" rows): the periodic job is skipped until resumed.
    paused: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


ACCOUNT_KINDS = ("seller", "vendor")
ACCOUNT_REGIONS = ("na", "eu", "fe")
# What the last look at the account's credentials found (``hub.amazon.accounts``): an
# observation, not a lifecycle; any value may follow any other.
ACCOUNT_HEALTH = ("unchecked", "ok", "missing", "refused", "unreachable")


class AmazonAccount(Base):
    """One selling account: a Seller Central seller id or a Vendor Central vendor code, in one
    region, selling in some marketplaces. Its credentials are *named* here (``env:PREFIX`` or
    ``file:/path``), never stored: they are read from the environment or the file each time a
    connector is made."""

    __tablename__ = "amazon_accounts"
    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_(ACCOUNT_KINDS), name="kind"),
        sa.CheckConstraint(sa.column("region").in_(ACCOUNT_REGIONS), name="region"),
        sa.CheckConstraint(sa.column("health").in_(ACCOUNT_HEALTH), name="health"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[str] = mapped_column(sa.String(40), unique=True)  # or vendor code
    kind: Mapped[str] = mapped_column(sa.String(10), default="seller")
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    region: Mapped[str] = mapped_column(sa.String(2), default="na")
    marketplaces: Mapped[list] = mapped_column(JsonDoc, default=list)  # marketplace ids
    credentials_ref: Mapped[str] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    health: Mapped[str] = mapped_column(sa.String(12), default="unchecked",
                                        server_default="unchecked")
    health_code: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    # Amazon's or the resolver's words (never a secret); shown in HQ under the explanation.
    health_detail: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    health_since: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    # A short hash of the credentials Amazon last refused: the jobs leave the account alone
    # until the credentials behind the reference change (or a check passes).
    refused_fingerprint: Mapped[str] = mapped_column(sa.String(16), default="",
                                                     server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
