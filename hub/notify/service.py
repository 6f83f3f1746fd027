"""Telling the shopper: the drop-off receipt by e-mail, sent by the outbox after commit.

``MAIL_SMTP_HOST`` set: sent through that server (``MAIL_SMTP_PORT``, ``MAIL_SMTP_USER``,
``MAIL_SMTP_PASSWORD``, ``MAIL_SMTP_STARTTLS``, ``MAIL_FROM``). Not set (the demo): written as
an .eml file under ``instance/mail`` so it can be opened and checked. Addresses are personal
data and are never logged."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from hub.intake.models import Intake
from hub.money import Money
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.stores.models import Store


def receipt_email(rma: ReturnAuthorization, intake: Intake, store: Store,
                  refund: Refund | None) -> EmailMessage:
    with force_locale(rma.shopper_locale or "en"):
        amount = str(Money.from_minor(refund.amount, refund.currency)) if refund else None
        message = EmailMessage()
        message["Subject"] = gettext("Your return %(number)s was handed in",
                                     number=rma.number)
        lines = [gettext("Thank you. %(store)s received your return %(number)s.",
                         store=store.name, number=rma.number),
                 gettext("Receipt: %(receipt)s", receipt=intake.receipt_number)]
        lines.append(gettext("Refund on its way: %(amount)s. Amazon usually shows it within "
                             "two business days.", amount=amount) if amount else
                     gettext("No refund is due for the items handed in."))
        message.set_content("\n\n".join(lines) + "\n")
    return message


@outbox.handler("shopper.notify")
def notify_shopper(session: Session, message) -> None:
    rma = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.number == message.payload["rma"]))
    if rma is None or not rma.shopper_email:
        return
    intake = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    store = session.get(Store, intake.store_id)
    refund = session.scalar(sa.select(Refund).where(Refund.intake_id == intake.id))
    email = receipt_email(rma, intake, store, refund)
    email["From"] = current_app.config.get("MAIL_FROM", "returns@homing.invalid")
    email["To"] = rma.shopper_email
    email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@homing>"
    send(email, name=f"{intake.receipt_number}.eml")


def send(email: EmailMessage, name: str) -> None:
    config = current_app.config
    host = config.get("MAIL_SMTP_HOST")
    if not host:
        folder = Path(config.get("MAIL_DIR") or Path(current_app.instance_path) / "mail")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(bytes(email))
        return
    with smtplib.SMTP(host, int(config.get("MAIL_SMTP_PORT", 587)), timeout=15) as smtp:
        if config.get("MAIL_SMTP_STARTTLS", True):
            smtp.starttls()
        if config.get("MAIL_SMTP_USER"):
            smtp.login(config["MAIL_SMTP_USER"], config.get("MAIL_SMTP_PASSWORD", ""))
        smtp.send_message(email)
