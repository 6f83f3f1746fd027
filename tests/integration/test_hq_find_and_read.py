"""HQ finds a return by any code a shopper or clerk reads out, lists every return of an order,
and reads the drill-down and the audit log as a person would: amounts with their currency,
people by name, readable changes instead of JSON, local times, in the reader's language."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from hub.intake.models import Intake
from tests.integration.factories import create_order, issue_return, seed_stores, store_user
from tests.integration.hq_helpers import hq_user, sign_in
from tests.integration.test_store_app import _decide, _scan, _sign_in, _tablet

ORDER = "114-1234567-1234567"
ONE_HEADPHONE = [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"}]


@pytest.fixture
def two_returns(app, client, api_key, session):
    """Two returns of one order; the first checked in at NYC-1 with a supervisor's PIN."""
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    first = issue_return(client, admin, ONE_HEADPHONE)
    second = issue_return(client, admin, ONE_HEADPHONE)
    store_user(session, "NYC-1", "clerk", "101", "2468", name="Casey Clerk")
    store_user(session, "NYC-1", "supervisor", "900", "9090", name="Sam Supervisor")
    counter = app.test_client()
    _tablet(counter, session)
    assert _sign_in(counter).status_code == 302
    intake_path = _scan(counter, first["voucher"]["token"]).headers["Location"].split("?")[0]
    [unit_path] = set(re.findall(r'href="(/store/intakes/\d+/units/\d+)"',
                                 counter.get(intake_path).get_data(as_text=True)))
    assert _decide(counter, unit_path, grade="D", disposition="transfer_dc").status_code == 303
    done = counter.post(intake_path + "/complete",
                        data={"supervisor_staff": "900", "supervisor_pin": "9090"})
    assert done.status_code == 303, done.get_data(as_text=True)
    hq_user(session, "admin", email="ada@hq.example")
    assert sign_in(client, "ada@hq.example").status_code == 302
    intake = session.scalar(sa.select(Intake))
    return first, second, intake


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_search_keys_read_every_printed_shape():
    from hub.hq.detail import search_keys

    assert search_keys("tebr-jsy5-ef")["return"] == "TEBRJSY5EF"
    assert search_keys(" 114 1234567 1234567 ")["order"] == ORDER
    assert search_keys("11412345671234567")["order"] == ORDER
    assert search_keys("rc-261203-a1b2c3")["receipt"] == "RC-261203-A1B2C3"
    assert search_keys("#42")["intake"] == "42"
    assert "intake" not in search_keys(ORDER)
    assert search_keys("   ") == {}


def test_every_code_the_shopper_or_clerk_sees_finds_the_return(client, session, two_returns):
    first, second, intake = two_returns
    from hub.returns.models import ReturnAuthorization

    rma = session.scalar(sa.select(ReturnAuthorization)
                         .where(ReturnAuthorization.number == first["number"]))
    rma.external_rma_id = "DhNCmnQ5RRMA"  # Amazon's RMA id, from its returns report
    session.commit()
    code = first["voucher"]["short_code"]  # as printed: XXXX-XXXX-XX
    assert "-" in code
    for typed in (first["number"], first["number"].lower(), code, code.lower(),
                  code.replace("-", ""), code.replace("-", " "), intake.receipt_number,
                  intake.receipt_number.lower(), str(intake.id), "DhNCmnQ5RRMA"):
        found = client.get("/hq/returns", query_string={"q": typed})
        assert found.status_code == 302, typed
        assert found.headers["Location"].endswith(f"/hq/returns/{first['number']}"), typed


def test_an_order_with_several_returns_lists_them(client, session, two_returns):
    first, second, _intake = two_returns
    for typed in (ORDER, ORDER.replace("-", "")):
        page = client.get("/hq/returns", query_string={"q": typed})
        assert page.status_code == 200, typed
        html = page.get_data(as_text=True)
        assert f'data-return="{first["number"]}"' in html
        assert f'data-return="{second["number"]}"' in html
        assert "2 returns match" in html
    nothing = client.get("/hq/returns", query_string={"q": "ZZZZ-ZZZZ-ZZ"})
    assert nothing.status_code == 302 and "/hq/returns/" not in nothing.headers["Location"]


def test_drill_down_timeline_reads_like_a_person_wrote_it(client, session, two_returns):
    first, _second, _intake = two_returns
    html = client.get(f"/hq/returns/{first['number']}").get_data(as_text=True)
    start = html.index('<ol class="timeline">')
    timeline = _text(html[start:html.index("</ol>", start)])
    assert "Check-in completed" in timeline and "Return authorised" in timeline
    assert "Approved by: Sam Supervisor" in timeline  # a name, not a user id
    assert re.search(r"Refund: \$\d+\.\d\d", timeline)  # an amount with its currency
    assert "Send to the distribution centre" in timeline  # the disposition, not transfer_dc
    assert "{" not in timeline and "transfer_dc" not in timeline and "=" not in timeline
    assert re.search(r"\d{1,2}:\d\d:\d\d\s[AP]M E[SD]T", timeline)  # New York time, zoned
    german = client.get(f"/hq/returns/{first['number']}?lang=de").get_data(as_text=True)
    assert "Annahme abgeschlossen" in german and "Genehmigt von: Sam Supervisor" in german


def test_audit_log_shows_names_amounts_and_changes_not_json(client, session, two_returns):
    first, _second, _intake = two_returns
    html = client.get("/hq/audit").get_data(as_text=True)
    start = html.index('<table class="audit">')
    table = html[start:html.index("</table>", start)]
    assert "Check-in completed" in table and "Sam Supervisor" in table
    assert re.search(r"\$\d+\.\d\d", table)
    assert "{" not in _text(table) and "&#34;" not in table and "(UTC)" not in html
    assert f'href="/hq/returns/{first["number"]}"' in table  # the intake's return, linked
    japanese = client.get("/hq/audit?lang=ja").get_data(as_text=True)
    assert "受付完了" in japanese
