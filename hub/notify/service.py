"""Telling the shopper, by e-mail, sent by the outbox after commit, in the shopper's language:

- ``voucher_issued``: their copy of the voucher (short code, QR, store, valid until) and the
  link back to the return's status page, so a closed tab loses nothing;
- ``dropped_off``: the receipt from the store counter;
- ``visit_receipt``: one receipt for a counter visit, listing each return's outcome (its
  returns send no ``dropped_off`` of their own);
- ``refunded``: the return is complete, with the amount Amazon refunded;
- ``refund_delayed``: Amazon refused the refund; what happens next.

Every e-mail carries the return's status link (``PUBLIC_URL``, else where the shopper reached
the portal). ``MAIL_SMTP_HOST`` set: sent through that server (``MAIL_SMTP_PORT``,
``MAIL_SMTP_USER``, ``MAIL_SMTP_PASSWORD``, ``MAIL_SMTP_STARTTLS``, ``MAIL_FROM``). Not set (the
demo): written as an .eml file under ``MAIL_DIR`` (default ``instance/mail``) so it can be
opened and checked. Addresses are personal data and are never logged."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from hub.intake.models import Intake
from hub.locales import local_date, locale_name, money
from hub.money import Money
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.returns.service import status_path
from hub.stores.models import Store
from hub.vouchers.models import Voucher


def _amount(refund: Refund | None) -> str | None:
    return str(Money.from_minor(refund.amount, refund.currency)) if refund else None


def receipt_email(rma: ReturnAuthorization, intake: Intake, store: Store,
                  refund: Refund | None, link: str | None = None) -> EmailMessage:
    with force_locale(locale_name(rma.shopper_locale)):
        amount = _amount(refund)
        message = EmailMessage()
        message["Subject"] = gettext("Your return %(number)s was handed in",
                                     number=rma.number)
        lines = [gettext("Thank you. %(store)s received your return %(number)s.",
                         store=store.name, number=rma.number),
                 gettext("Receipt: %(receipt)s", receipt=intake.receipt_number)]
        lines.append(gettext("Refund on its way: %(amount)s. Amazon usually shows it within "
                             "two business days.", amount=amount) if amount else
                     gettext("No refund is due for the items handed in."))
        lines += _follow(link)
        message.set_content("\n\n".join(lines) + "\n")
    return message


def _follow(link: str | None) -> list[str]:
    return [gettext("Follow your return: %(link)s", link=link)] if link else []


def voucher_email(rma: ReturnAuthorization, voucher: Voucher, store: Store | None,
                  order_id: str, link: str | None, qr_png: bytes) -> EmailMessage:
    from hub.vouchers.crypto import format_short_code

    code = format_short_code(voucher.short_code)
    zone = store.timezone if store else None
    message = EmailMessage()
    message["Subject"] = gettext("Your return code for order %(order)s", order=order_id)
    lines = [gettext("Show this code at the store counter: %(code)s", code=code)]
    if store is not None:
        lines.append(gettext("Your store: %(name)s, %(address)s %(city)s", name=store.name,
                             address=store.address, city=store.city))
    lines.append(gettext("Valid until %(date)s. Your items do not need a box.",
                         date=local_date(voucher.expires_at, zone)))
    lines += _follow(link)
    text = "\n\n".join(lines) + "\n"
    message.set_content(text)
    cid = make_msgid(domain="homing")
    paragraphs = "".join(f"<p>{_html(line)}</p>" for line in lines)
    message.add_alternative(
        f'<!doctype html><html><body>{paragraphs}<p><img src="cid:{cid[1:-1]}" width="240" '
        f'height="240" alt="{_html(gettext("Return QR code"))}"></p></body></html>',
        subtype="html")
    message.get_payload()[1].add_related(qr_png, "image", "png", cid=cid,
                                         filename="return-code.png")
    return message


def refunded_email(rma: ReturnAuthorization, refunds: list[Refund], zone: str | None,
                   link: str | None) -> EmailMessage:
    message = EmailMessage()
    total = sum(r.amount for r in refunds)
    manual = all(r.status == "manual" for r in refunds)
    message["Subject"] = gettext("Your return %(number)s is complete", number=rma.number)
    lines = [gettext("Your refund of %(amount)s will be paid out by our team.",
                     amount=money(total, rma.currency)) if manual else
             gettext("Amazon refunded %(amount)s on %(date)s. It goes back to the way you "
                     "paid; your bank may take a few days to show it.",
                     amount=money(total, rma.currency),
                     date=local_date(rma.completed_at, zone))]
    lines += _follow(link)
    message.set_content("\n\n".join(lines) + "\n")
    return message


def delayed_email(rma: ReturnAuthorization, link: str | None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = gettext("Your refund for return %(number)s is delayed",
                                 number=rma.number)
    lines = [gettext("Amazon did not accept the refund for your return yet. Our team has been "
                     "told and will send it again; you do not need to do anything."),
             gettext("We will e-mail you as soon as the refund is made.")]
    lines += _follow(link)
    message.set_content("\n\n".join(lines) + "\n")
    return message


def _html(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _link(session: Session, rma: ReturnAuthorization, payload: dict) -> str | None:
    base = current_app.config.get("PUBLIC_URL") or payload.get("base_url") or \
        _portal_seen_at(session, rma)
    if not base:
        return None
    return base.rstrip("/") + status_path(current_app.config["SECRET_KEY"], rma.number)


def _portal_seen_at(session: Session, rma: ReturnAuthorization) -> str | None:
    """Where the shopper reached the portal when the voucher was issued (no PUBLIC_URL)."""
    from hub.outbox.models import OutboxMessage

    first = session.scalar(sa.select(OutboxMessage.payload).where(
        OutboxMessage.dedupe_key == f"return:{rma.number}:voucher"))
    return (first or {}).get("base_url")


# --- composing each kind of message -------------------------------------------------------------

def _dropped_off(session: Session, rma: ReturnAuthorization, payload: dict, link: str | None
                 ) -> tuple[EmailMessage, str] | None:
    intake = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    if intake is None:
        return None
    store = session.get(Store, intake.store_id)
    refund = session.scalar(sa.select(Refund).where(Refund.intake_id == intake.id))
    return receipt_email(rma, intake, store, refund, link), f"{intake.receipt_number}.eml"


def visit_email(receipt: str, store: Store, outcomes: list[tuple[str, str, str | None]],
                link: str | None = None) -> EmailMessage:
    """``outcomes``: (return number, order id, refund amount or None) per return."""
    message = EmailMessage()
    message["Subject"] = gettext("Your returns at %(store)s (receipt %(receipt)s)",
                                 store=store.name, receipt=receipt)
    lines = [gettext("Thank you. %(store)s received %(n)d returns in one visit.",
                     store=store.name, n=len(outcomes)),
             gettext("Receipt: %(receipt)s", receipt=receipt)]
    for number, order_id, amount in outcomes:
        lines.append(gettext("Return %(number)s (order %(order)s): refund on its way, "
                             "%(amount)s.", number=number, order=order_id, amount=amount)
                     if amount else
                     gettext("Return %(number)s (order %(order)s): no refund is due.",
                             number=number, order=order_id))
    lines.append(gettext("Each refund is made separately; Amazon usually shows it within two "
                         "business days."))
    lines += _follow(link)
    message.set_content("\n\n".join(lines) + "\n")
    return message


def _visit_receipt(session: Session, rma: ReturnAuthorization, payload: dict,
                   link: str | None) -> tuple[EmailMessage, str] | None:
    from hub.counter.models import CounterVisit
    from hub.counter.visits import rows

    visit = session.get(CounterVisit, payload.get("visit_id") or 0)
    if visit is None or visit.status != "closed":
        return None
    done = [r for r in rows(session, visit) if r["status"] == "completed"]
    outcomes = [(r["number"], r["order_id"],
                 str(Money.from_minor(r["refund"], r["currency"])) if r["refund"] else None)
                for r in done]
    return (visit_email(visit.receipt_number, session.get(Store, visit.store_id), outcomes,
                        link), f"{visit.receipt_number}.eml")


def _voucher_issued(session: Session, rma: ReturnAuthorization, payload: dict,
                    link: str | None) -> tuple[EmailMessage, str] | None:
    from hub.orders.models import Order
    from hub.vouchers import render

    voucher = session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id))
    if voucher is None or voucher.status != "active":
        return None  # used, cancelled or expired before the e-mail went: nothing to show
    store = session.get(Store, rma.chosen_store_id) if rma.chosen_store_id else None
    order = session.get(Order, rma.order_id)
    return (voucher_email(rma, voucher, store, order.external_id, link,
                          render.qr_png(voucher.token)), f"{rma.number}-voucher.eml")


def _refunded(session: Session, rma: ReturnAuthorization, payload: dict, link: str | None
              ) -> tuple[EmailMessage, str] | None:
    refunds = list(session.scalars(sa.select(Refund).where(Refund.rma_id == rma.id)))
    if rma.status != "completed" or not refunds:
        return None
    return refunded_email(rma, refunds, _zone(session, rma), link), f"{rma.number}-refunded.eml"


def _refund_delayed(session: Session, rma: ReturnAuthorization, payload: dict,
                    link: str | None) -> tuple[EmailMessage, str] | None:
    if rma.status == "completed":
        return None  # retried and refunded before this went out: the good news is enough
    return delayed_email(rma, link), f"{rma.number}-delayed.eml"


def _zone(session: Session, rma: ReturnAuthorization) -> str | None:
    intake = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    store_id = intake.store_id if intake else rma.chosen_store_id
    store = session.get(Store, store_id) if store_id else None
    return store.timezone if store else None


Composer = Callable[[Session, ReturnAuthorization, dict, "str | None"],
                    "tuple[EmailMessage, str] | None"]
COMPOSERS: dict[str, Composer] = {
    "voucher_issued": _voucher_issued, "dropped_off": _dropped_off, "refunded": _refunded,
    "refund_delayed": _refund_delayed, "visit_receipt": _visit_receipt,
}


@outbox.handler("shopper.notify")
def notify_shopper(session: Session, message) -> None:
    payload = message.payload
    rma = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.number == payload["rma"]))
    compose = COMPOSERS.get(payload.get("event", "dropped_off"))
    if rma is None or not rma.shopper_email or compose is None:
        return
    with force_locale(locale_name(rma.shopper_locale)):
        composed = compose(session, rma, payload, _link(session, rma, payload))
    if composed is None:
        return
    email, name = composed
    email["From"] = current_app.config.get("MAIL_FROM", "returns@homing.invalid")
    email["To"] = rma.shopper_email
    email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@homing>"
    send(email, name=name)


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
