"""Work out the counter's voucher check when the voucher is issued, not when it is scanned."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.returns.models import ReturnAuthorization
from hub.scan import service as scan
from hub.vouchers.crypto import VoucherError
from hub.vouchers.keys import keyring
from hub.vouchers.models import Voucher


@outbox.handler("scan.prepare")
def prepare_voucher_check(session: Session, message: OutboxMessage) -> None:
    """The shopper brings the voucher days later: its first scan is then answered with one
    query. Delivered twice, it keeps the same answer again."""
    if not current_app.config["SCAN_ANSWERS"]:
        return
    code = session.scalar(
        sa.select(Voucher.short_code)
        .join(ReturnAuthorization, ReturnAuthorization.id == Voucher.rma_id)
        .where(ReturnAuthorization.number == message.payload["rma"]))
    if code is None:
        return
    try:
        scan.verify_voucher(session, keyring(), code, current_app.json.dumps)
    except VoucherError:
        return  # used, cancelled or expired meanwhile: a refusal is never kept
