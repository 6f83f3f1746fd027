from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models import Base, JsonDoc, Timestamped, money_column

CHANNELS = ("amazon-mfn", "amazon-fba", "amazon-business", "vendor", "web")


class Order(Timestamped, Base):
    """An order a shopper can return against, from Amazon or any other channel."""

    __tablename__ = "orders"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    marketplace_id: Mapped[str] = mapped_column(sa.String(20), default="")
    seller_id: Mapped[str] = mapped_column(sa.String(40), default="")
    external_id: Mapped[str] = mapped_column(sa.String(40), index=True)  # e.g. 114-1234567-1234567
    status: Mapped[str] = mapped_column(sa.String(20), default="delivered")
    currency: Mapped[str] = mapped_column(sa.String(3))
    purchased_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # Contact details are personal data: used to verify the shopper and to notify them, never
    # logged. Postal code and e-mail are stored normalised (upper-case, no spaces / lower-case).
    buyer_email: Mapped[str] = mapped_column(sa.String(254), default="")
    buyer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    ship_postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    ship_country: Mapped[str] = mapped_column(sa.String(2), default="")
    # Order-level promotions: [{"id": ..., "amount_minor": ..., "kind": ..., "condition": {...}}]
    promotions: Mapped[list] = mapped_column(JsonDoc, default=list)
    is_business: Mapped[bool] = mapped_column(default=False)
    # Bumped by every write behind a store scan answer (hub.scan.revisions).
    scan_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (sa.UniqueConstraint("order_id", "external_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    # Amazon's 14-digit OrderItemId (AmazonOrderItemCode in feeds) or the channel's line id.
    external_item_id: Mapped[str] = mapped_column(sa.String(40))
    sku: Mapped[str] = mapped_column(sa.String(80))
    asin: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    category: Mapped[str] = mapped_column(sa.String(60), default="general")
    size_class: Mapped[str] = mapped_column(sa.String(20), default="small")
    image_url: Mapped[str] = mapped_column(sa.String(500), default="")
    quantity: Mapped[int]
    # Amounts for the whole line, in minor units of the order's currency, as Amazon reports
    # them (ItemPrice is per line, not per unit).
    item_price: Mapped[int] = money_column()
    item_tax: Mapped[int] = money_column()
    shipping_price: Mapped[int] = money_column()
    shipping_tax: Mapped[int] = money_column()
    promotions: Mapped[list] = mapped_column(JsonDoc, default=list)
    # The item's GTIN as 14 digits (hub.items.gtin), from the order import or, for Amazon
    # orders, from the Catalog Items API; "" while unknown. gtin_source: import | amazon |
    # none (Amazon answered and knows no EAN/UPC) | "" (not asked yet, or no answer).
    gtin: Mapped[str] = mapped_column(sa.String(14), default="", server_default="")
    gtin_source: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    # The shipped units' serial numbers when the import or Amazon (FBA) knows them.
    serial_numbers: Mapped[list] = mapped_column(JsonDoc, default=list,
                                                 server_default="[]")

    order: Mapped[Order] = relationship(back_populates="lines")
