from __future__ import annotations

import re

from hub.returns.models import ReturnAuthorization
from tests.conftest import count
from tests.integration.factories import create_order, seed_stores

ORDER = "114-1234567-1234567"


def _find(client, proof="10001"):
    return client.post("/return/find", data={"order_id": ORDER, "proof": proof})


def _setup(client, api_key, session):
    seed_stores(session)
    create_order(client, api_key("admin"))


def test_from_order_lookup_to_voucher(client, api_key, session):
    _setup(client, api_key, session)
    assert _find(client).status_code == 302
    html = client.get("/return/items").get_data(as_text=True)
    headphones, tshirt = re.findall(r'name="qty-(\d+)"', html)
    quote = client.post("/return/quote", data={f"qty-{headphones}": "1",
                                               f"reason-{headphones}": "fit.too_small"})
    assert "Expected refund: $108.86" in quote.get_data(as_text=True)
    chosen = client.post("/return/items", data={f"qty-{headphones}": "1",
                                                f"reason-{headphones}": "fit.too_small",
                                                "postal_code": "10001"})
    assert chosen.headers["Location"].endswith("/return/stores")
    stores = client.get("/return/stores").get_data(as_text=True)
    assert stores.index("Herald Square") < stores.index("Jersey City")
    done = client.post("/return/confirm", data={"store_code": "JC-1"})
    assert done.status_code == 302
    status = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Jersey City" in status and re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{2}", status)
    qr = re.search(r'src="(/return/r/[^"]+/qr\.png\?k=\w+)"', status).group(1)
    assert client.get(qr).mimetype == "image/png"


def test_wrong_postal_code_and_wrong_order_look_the_same(client, api_key, session):
    _setup(client, api_key, session)
    wrong_proof = _find(client, proof="99999")
    wrong_order = client.post("/return/find", data={"order_id": "114-0000000-0000000",
                                                    "proof": "10001"})
    assert wrong_proof.status_code == wrong_order.status_code == 404
    assert "could not find an order" in wrong_proof.get_data(as_text=True)


def test_status_page_needs_the_key_from_the_link(client, api_key, session):
    _setup(client, api_key, session)
    _find(client)
    html = client.get("/return/items").get_data(as_text=True)
    line = re.findall(r'name="qty-(\d+)"', html)[0]
    client.post("/return/items", data={f"qty-{line}": "1", f"reason-{line}": "fit.too_small"})
    location = client.post("/return/confirm", data={}).headers["Location"]
    number = location.split("/r/")[1].split("?")[0]
    assert client.get(f"/return/r/{number}").status_code == 404
    assert client.get(f"/return/r/{number}?k=guess").status_code == 404
    assert count(session, ReturnAuthorization) == 1


def test_missing_reason_is_explained_and_nothing_is_created(client, api_key, session):
    _setup(client, api_key, session)
    _find(client)
    html = client.get("/return/items").get_data(as_text=True)
    line = re.findall(r'name="qty-(\d+)"', html)[0]
    response = client.post("/return/items", data={f"qty-{line}": "1"})
    assert response.status_code == 422
    assert "Tell us why" in response.get_data(as_text=True)
    assert count(session, ReturnAuthorization) == 0


def test_order_lookups_are_rate_limited(client, api_key, session):
    _setup(client, api_key, session)
    codes = [_find(client, proof=f"0000{i}").status_code for i in range(12)]
    assert codes[0] == 404 and 429 in codes


def test_portal_speaks_the_browsers_language(client, api_key, session):
    page = client.get("/return/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert 'lang="de"' in page.get_data(as_text=True)
