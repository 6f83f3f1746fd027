"""What the shopper portal says about domain results, in the reader's language: the refund
engine's explanations and components, the routing reasons, the state of each returned unit.
Domain code hands over message ids and params; this module translates and formats them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlencode

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _

from hub.intake.inspection import REJECT_REASONS
from hub.locales import distance, local_datetime, money
from hub.refunds.engine import message_for
from hub.text import N_

# --- the refund -----------------------------------------------------------------------------

COMPONENT_LABELS = {
    "Principal": N_("Item price"), "Promotion": N_("Discount you got"), "Tax": N_("Tax"),
    "Shipping": N_("Shipping"), "ShippingTax": N_("Shipping tax"),
    "RestockingFee": N_("Restocking fee"),
}


def component_rows(components: Mapping[str, int], currency: str) -> list[dict]:
    """The refund's parts as the quote shows them: a label that says which way the money
    goes and the signed amount ("-$13.33" for a deduction, "+$6.67" for money given back)."""
    rows = []
    for name, minor in components.items():
        if not minor:
            continue
        if name == "PromotionClawback":
            label = (_("Multi-buy discount lost on the items you keep") if minor < 0 else
                     _("Multi-buy discount deducted earlier, given back"))
        else:
            label = _(COMPONENT_LABELS.get(name, name))
        amount = money(minor, currency)
        rows.append({"name": name, "label": label, "minor": minor,
                     "amount": amount if minor < 0 or name == "Principal" else f"+{amount}"})
    return rows


def explanations(items: Iterable, titles: Mapping[str, str], currency: str) -> list[str]:
    """The engine's explanations (objects or their dict form) as translated sentences, items
    named as the shopper knows them."""
    out = []
    for item in items:
        if isinstance(item, Mapping):
            code = item["code"]
            params = {k: v for k, v in item.items() if k not in ("code", "text")}
        else:
            code, params = item.code, dict(item.params)
        try:
            template = message_for(code, params)
        except KeyError:
            continue  # an explanation this screen does not know yet says nothing to shoppers
        values = dict(params)
        if "line_id" in params:
            values["item"] = titles.get(str(params["line_id"]), _("An item"))
        if "amount_minor" in params:
            values["amount"] = money(int(params["amount_minor"]), currency)
        out.append(_(template, **values))
    return out


# --- stores ---------------------------------------------------------------------------------

def directions_url(latitude: float, longitude: float) -> str:
    """A maps link every phone opens (iOS does not open geo: URIs): Google Maps' universal
    cross-platform URL; it opens the maps app or the browser. Only a link: nothing is
    fetched from it."""
    query = urlencode({"api": 1, "destination": f"{latitude:.6f},{longitude:.6f}"})
    return f"https://www.google.com/maps/dir/?{query}"


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def route_reasons(store: Mapping, country: str | None) -> list[str]:
    """Why a store is offered, from the routing reasons, in the reader's words and units."""
    out = []
    for reason in store.get("reasons", []):
        code = reason["code"]
        if code == "nearest_suitable":
            out.append(_("The nearest store that takes these items"))
        elif code == "full_today":
            out.append(_("Takes these items, but has no intake slots left today"))
        elif code == "does_not_accept":
            out.append(_("Does not take these items"))
        elif code == "open_now" and store.get("closes_at"):
            out.append(_("Open now until %(time)s",
                         time=_clock(_at(store["closes_at"]), store.get("timezone"))))
        elif code == "open_all_day":
            out.append(_("Open around the clock"))
        elif code == "closed_now" and store.get("next_opening"):
            out.append(_("Closed now; opens %(when)s",
                         when=local_datetime(_at(store["next_opening"]), store.get("timezone"))))
        elif code == "closed":
            out.append(_("No opening hours in the next two weeks"))
        elif code == "capacity":
            out.append(_("%(left)d of %(capacity)d intake slots left today",
                         left=reason["left"], capacity=reason["capacity"]))
    return out


def _clock(moment: datetime | None, zone: str | None) -> str:
    from zoneinfo import ZoneInfo

    from babel.dates import format_time

    if moment is None:
        return ""
    return format_time(moment.astimezone(ZoneInfo(zone or "UTC")), "short",
                       locale=get_locale() or "en")


def store_distance(store: Mapping, country: str | None) -> str:
    return distance(store.get("distance_km"), store.get("country") or country)


_DAY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
_DAY_INDEX = {name: i for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}


def opening_hours(text: str) -> str:
    """A store's hours text ("Mon-Sat 08:00-22:00; Sun closed") with the reader's day names."""
    names = get_day_names("abbreviated", locale=get_locale() or "en")
    text = _DAY.sub(lambda m: names[_DAY_INDEX[m.group(1)]], text or "")
    return text.replace("closed", _("closed")).replace("24/7", _("open around the clock"))


# --- units ----------------------------------------------------------------------------------

def unit_state(unit: Mapping, rma_status: str) -> tuple[str, str]:
    """(kind, text) of a returned unit: kind is ok | bad | waiting | none, for its badge."""
    reception, acceptance = unit["reception"], unit["acceptance"]
    if reception == "awaiting":
        return "waiting", _("To hand in")
    if reception == "expired":
        return "none", _("Expired")
    if reception == "cancelled":
        return ("none", _("Cancelled")) if rma_status == "cancelled" else \
            ("bad", _("Not handed in"))
    if acceptance == "accepted":
        grade = unit.get("grade")
        if grade and grade not in ("A", "B"):
            return "ok", _("Accepted, condition %(grade)s", grade=grade)
        return "ok", _("Accepted")
    if acceptance == "rejected":
        reason = REJECT_REASONS.get(unit.get("decision_reason") or "")
        return "bad", (_("Not accepted: %(reason)s", reason=_(reason)) if reason
                       else _("Not accepted"))
    return "waiting", _("Being checked")
