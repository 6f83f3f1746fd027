"""Speaking the reader's language outside a request as well as in one (e-mails sent by the
worker, pages): which catalogue a BCP-47 tag gets, and times, dates, money and distances in
the reader's locale. Used by the web adapter (hub.web.i18n) and by features that write to
people (hub.notify); it needs Flask-Babel's current locale (a request or ``force_locale``).

Browsers and phones send BCP-47 tags (``en-US``, ``de-AT``, ``zh-Hans-CN``, ``pt-BR``); the
catalogues are named ``en``, ``de``, ``zh_Hans``. ``negotiate`` maps every tag to the best
catalogue (or to none), and only its answer is ever stored or handed to Babel, so no raw tag
can reach ``force_locale`` in a background job."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask_babel import format_currency

from hub.money import Money

# A language whose only catalogue has a script: every Chinese reader gets the Simplified one
# (the only Chinese catalogue) rather than English.
_ONLY_CATALOGUE = {"zh": "zh_Hans"}
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")


def negotiate(tags: Iterable[str | None], supported: Iterable[str]) -> str | None:
    """The first catalogue in ``supported`` that one of ``tags`` (most wanted first) can be
    read in: the language with its script (``zh-Hans-CN`` -> ``zh_Hans``), else the language
    alone (``de-AT`` -> ``de``). None when no tag fits (``pt-BR`` with no Portuguese)."""
    available = {name.lower(): name for name in supported}
    for tag in tags:
        parts = re.split(r"[-_]", (tag or "").strip())
        if not all(_SUBTAG.fullmatch(p) for p in parts) or not parts[0].isalpha():
            continue  # "*", empty or malformed: says nothing about a language
        language = parts[0].lower()
        script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
        wanted = ([f"{language}_{script}"] if script else []) + [language]
        wanted.append(_ONLY_CATALOGUE.get(language, ""))
        for name in wanted:
            if name.lower() in available:
                return available[name.lower()]
    return None


def locale_name(value: str | None, supported: Iterable[str] | None = None) -> str:
    """A stored or given locale as a catalogue name, the default when it fits none (old rows
    may hold a raw browser tag such as ``en-US``)."""
    from flask import current_app as app

    names = supported if supported is not None else app.config["LANGUAGES"]
    return negotiate([value], names) or app.config.get("BABEL_DEFAULT_LOCALE", "en")


def money(minor: int, currency: str) -> str:
    """An amount in minor units, formatted for the reader's locale ($1,234.50 / 1.234,50 €)."""
    return format_currency(Money.from_minor(minor, currency).amount, currency)


def _local(moment: datetime, zone: str | None) -> datetime:
    if moment.tzinfo is None:  # stored in UTC; SQLite hands it back without the zone
        moment = moment.replace(tzinfo=UTC)
    if zone is None:
        return moment  # already on the clock it was given in (routing's store-local times)
    try:
        return moment.astimezone(ZoneInfo(zone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(UTC)


def local_datetime(moment: datetime | None, zone: str | None = None) -> str:
    """A stored (UTC) time on the reader's clock: in ``zone`` (the store's, which is the
    shopper's too), date and hours:minutes in the reader's locale ("Dec 3, 2026, 9:41 AM",
    "03.12.2026, 09:41", "2026/12/03 9:41")."""
    if moment is None:
        return ""
    from babel.dates import format_date, format_time
    from flask_babel import get_locale

    local, locale = _local(moment, zone), get_locale() or "en"
    pattern = Locale.parse(locale).datetime_formats["medium"]
    return pattern.format(format_time(local, "short", locale=locale),
                          format_date(local, "medium", locale=locale))


def local_date(moment: datetime | None, zone: str | None = None,
               width: str = "long") -> str:
    if moment is None:
        return ""
    from babel.dates import format_date
    from flask_babel import get_locale

    return format_date(_local(moment, zone).date(), width, locale=get_locale() or "en")


# Where road signs count in miles.
MILE_COUNTRIES = frozenset({"US", "GB", "LR", "MM"})


def distance(km: float | None, country: str | None) -> str:
    """A distance as people where the store is read it: miles in the US (and the UK),
    kilometres elsewhere, one decimal, in the reader's locale ("1.2 mi", "1,9 km")."""
    if km is None:
        return ""
    from babel.units import format_unit
    from flask_babel import get_locale

    miles = (country or "").upper() in MILE_COUNTRIES
    value = float(km) / 1.609344 if miles else float(km)
    return format_unit(round(value, 1), "length-mile" if miles else "length-kilometer",
                       length="short", format="#,##0.0", locale=get_locale() or "en")
