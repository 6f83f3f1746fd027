"""What the counter is shown, at the depth each break of issue 14 was born: one manifest per
installable app, and only what the clerk can act on (failed deliveries are HQ's)."""

from __future__ import annotations

import re

from hub.outbox.models import OutboxMessage
from hub.stores.service import get_store
from tests.integration.test_store_app import _scan, _setup

MANIFEST = re.compile(r'<link rel="manifest" href="([^"]+)"')


def test_store_pages_link_only_the_store_app_manifest(client, api_key, session):
    _setup(client, api_key, session)
    for path in ("/store/", "/store/today", "/store/login"):
        links = MANIFEST.findall(client.get(path).get_data(as_text=True))
        assert links == ["/store/manifest.webmanifest"], (path, links)
    store_app = client.get("/store/manifest.webmanifest").get_json()
    assert store_app["start_url"] == "/store/" and store_app["scope"] == "/store/"
    assert store_app["id"] == "/store/"


def test_shopper_manifest_is_scoped_to_the_shopper_portal(client, session):
    links = MANIFEST.findall(client.get("/return/").get_data(as_text=True))
    # Fingerprinted (hub/web/assets.py): the content hash lets it be cached for a year.
    assert [link.split("?v=")[0] for link in links] == ["/static/manifest.webmanifest"]
    shopper = client.get(links[0]).get_json()
    assert shopper["scope"] == shopper["start_url"] == shopper["id"] == "/return/"
    hq = client.get("/hq/login").get_data(as_text=True)
    assert MANIFEST.findall(hq) == []  # HQ is not an installable app


def test_a_failed_shopper_email_is_not_the_clerks_problem(client, api_key, session):
    rma = _setup(client, api_key, session)
    assert _scan(client, rma["voucher"]["token"]).status_code == 302
    store = get_store(session, "NYC-1")
    for status, topic in (("dead", "shopper.notify"), ("failed", "refund.submit")):
        session.add(OutboxMessage(topic=topic, payload={"rma": rma["number"]}, status=status,
                                  dedupe_key=f"test:{topic}", store_id=store.id,
                                  last_error="SMTP 550"))
    session.commit()
    for path in ("/store/", "/store/today"):
        page = client.get(path).get_data(as_text=True)
        assert "could not be sent" not in page and "failed push" not in page, path
        assert 'class="notice bad"' not in page and 'class="badge bad"' not in page, path
    # ... they wait in HQ's outbox queue, where someone can replay them.
    from hub.hq.access import Scope
    from hub.hq.queues import dead_messages

    admin = Scope(1, "admin", None, "admin")
    assert {m.topic for m in dead_messages(session, admin)} == {"shopper.notify",
                                                                "refund.submit"}
