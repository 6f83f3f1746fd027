"""The shopper portal speaks the shopper's language: chosen from the browser, switchable, and
every catalogue complete and compiled."""

from __future__ import annotations

import pathlib
import re

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.integration.factories import create_order, seed_stores

CATALOGUES = pathlib.Path(__file__).parents[2] / "hub" / "translations"
LANGUAGES = ("de", "fr", "es", "ja", "zh_Hans")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_is_complete_and_compiled(lang):
    folder = CATALOGUES / lang / "LC_MESSAGES"
    template = {m.id for m in read_po((CATALOGUES / "messages.pot").open("rb")) if m.id}
    po = {m.id: m for m in read_po((folder / "messages.po").open("rb")) if m.id}
    # Plural messages (ngettext) have a tuple of ids and of strings; the .mo gives lists.
    mo = {_key(m.id): _key(m.string) for m in read_mo((folder / "messages.mo").open("rb"))
          if m.id}
    assert template <= set(po), f"run bin/translations: {sorted(template - set(po))[:3]}"
    untranslated = [i for i, m in po.items() if not all(_forms(m.string)) or m.fuzzy]
    assert not untranslated, f"{lang}: untranslated {untranslated[:3]}"
    stale = [i for i, m in po.items() if mo.get(i) != _key(m.string)]
    assert not stale, f"{lang}: messages.mo is older than messages.po; run bin/translations"
    for msgid, message in po.items():  # placeholders survive translation
        for form in _forms(message.string):
            assert sorted(set(re.findall(r"%\((\w+)\)", " ".join(_forms(msgid))))) == \
                sorted(set(re.findall(r"%\((\w+)\)", form))), (lang, msgid)


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def _forms(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def test_browser_language_picks_the_catalogue(client):
    german = client.get("/return/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "Bestellung finden" in german.get_data(as_text=True)
    chinese = client.get("/return/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "查找我的订单" in chinese.get_data(as_text=True)
    english = client.get("/return/", headers={"Accept-Language": "nl-NL"})
    assert "Find my order" in english.get_data(as_text=True)


def test_language_switch_is_remembered(client):
    switched = client.get("/return/?lang=ja", headers={"Accept-Language": "en"})
    assert "注文を検索" in switched.get_data(as_text=True)
    assert "lang=ja" in switched.headers["Set-Cookie"]
    assert "注文を検索" in client.get("/return/").get_data(as_text=True)


def test_refusals_and_amounts_are_translated(client, api_key, session):
    seed_stores(session)
    create_order(client, api_key("admin"))
    headers = {"Accept-Language": "fr-FR"}
    client.post("/return/find", data={"order_id": "114-1234567-1234567", "proof": "10001"})
    html = client.get("/return/items", headers=headers).get_data(as_text=True)
    assert "Que retournez-vous ?" in html
    line = re.findall(r'name="qty-(\d+)"', html)[0]
    quote = client.post("/return/quote", headers=headers,
                        data={f"qty-{line}": "9", f"reason-{line}": "fit.too_small"})
    text = quote.get_data(as_text=True)
    assert "peuvent encore être retournés" in text  # quantity_exceeds, in French
    assert "Trop petit" in html  # reason labels come from the translated catalogue


def test_template_is_current(tmp_path):
    """Every user-facing string in the code is in messages.pot (run bin/translations if not)."""
    import subprocess
    import sys

    root = CATALOGUES.parents[1]
    out = tmp_path / "fresh.pot"
    subprocess.run([str(pathlib.Path(sys.executable).with_name("pybabel")), "extract", "-F",
                    "babel.cfg", "-k", "N_", "-k", "_l", "--no-location", "-o", str(out), "."],
                   cwd=root, capture_output=True, check=True)
    extracted = {m.id for m in read_po(out.open("rb")) if m.id}
    template = {m.id for m in read_po((CATALOGUES / "messages.pot").open("rb")) if m.id}
    assert extracted == template, f"run bin/translations: {sorted(extracted ^ template)[:5]}"


def test_store_tablet_speaks_german(client, session):
    from hub.auth.service import enroll_device
    from hub.stores.service import get_store

    seed_stores(session)
    _device, token = enroll_device(session, store_id=get_store(session, "NYC-1").id, name="T")
    session.commit()
    client.post("/store/enroll", data={"token": token})
    page = client.get("/store/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Personalnummer" in page and "Anmelden" in page
