"""The voucher's edges that need the database: consumption at a counter is one conditional
update, so of two stores scanning the same voucher at once exactly one wins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.scan import revisions as scan_revisions
from hub.vouchers.models import Voucher
from hub.vouchers.states import VOUCHER_TRANSITIONS

assert "used" in VOUCHER_TRANSITIONS["active"]  # the one edge taken here


def consume(session: Session, voucher: Voucher, store_id: int, now: datetime) -> bool:
    """active -> used at ``store_id``; False (and a replay counted) when another store won."""
    result = session.execute(
        sa.update(Voucher).where(Voucher.id == voucher.id, Voucher.status == "active")
        .values(status="used", consumed_at=now, consumed_store_id=store_id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.execute(sa.update(Voucher).where(Voucher.id == voucher.id)
                        .values(replay_attempts=Voucher.replay_attempts + 1))
        return False
    scan_revisions.touch(session, rma_ids={voucher.rma_id})  # the unit of work did not see it
    session.refresh(voucher)
    return True
