"""Several Amazon accounts at once, over HTTP with python-amazon-sp-api against the sandbox:
two seller accounts (US in USD, DE in EUR) and one vendor account, each with its own refresh
token and LWA client; one seller's refresh token expires. Only that account's jobs stop, HQ
and the deadlines say why, and once its credentials are renewed its refund goes out in EUR."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hub.amazon import accounts, jobs, service
from hub.amazon.models import AmazonAccount, FeedSubmission
from hub.jobs.deadlines import overdue
from hub.models import utcnow
from hub.refunds.models import Refund
from tests.integration.amazon_helpers import completed_refund

US, DE, VENDOR = "A1USSELLERX", "A2DESELLERX", "VENDX"
US_MARKET, DE_MARKET = "ATVPDKIKX0DER", "A1PA6795UKMFR9"
TOKENS = {US: ("Atzr|us-refresh", "amzn1.application-oa2-client.us", "us-secret"),
          DE: ("Atzr|de-refresh", "amzn1.application-oa2-client.de", "de-secret"),
          VENDOR: ("Atzr|vendor-refresh", "amzn1.application-oa2-client.vendor", "v-secret")}


def _register_at_amazon(emu) -> None:
    for seller, (token, client_id, secret) in TOKENS.items():
        emu.add_account(seller, token, client_id, secret)


def _env(monkeypatch, prefix: str, seller: str) -> None:
    token, client_id, secret = TOKENS[seller]
    monkeypatch.setenv(f"{prefix}_REFRESH_TOKEN", token)
    monkeypatch.setenv(f"{prefix}_LWA_APP_ID", client_id)
    monkeypatch.setenv(f"{prefix}_LWA_CLIENT_SECRET", secret)


def _file(path, seller: str) -> None:
    token, client_id, secret = TOKENS[seller]
    path.write_text(json.dumps({"refresh_token": token, "lwa_app_id": client_id,
                                "lwa_client_secret": secret}))


@pytest.fixture
def three_accounts(app, session, sandbox, emu, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "AMAZON_ENDPOINT", sandbox.url)
    monkeypatch.setitem(app.config, "AMAZON_MODE", "sandbox")
    monkeypatch.delitem(app.extensions, "homing_spapi_buckets", raising=False)
    _register_at_amazon(emu)
    _env(monkeypatch, "HOMING_TEST_ACCOUNT_US", US)
    _env(monkeypatch, "HOMING_TEST_ACCOUNT_VENDOR", VENDOR)
    secret_file = tmp_path / "de.json"
    _file(secret_file, DE)
    accounts.save(session, seller_id=US, kind="seller", region="na", marketplaces=[US_MARKET],
                  credentials_ref="env:HOMING_TEST_ACCOUNT_US_REFRESH_TOKEN", name="US shop")
    accounts.save(session, seller_id=DE, kind="seller", region="eu", marketplaces=[DE_MARKET],
                  credentials_ref=f"file:{secret_file}", name="DE shop")
    accounts.save(session, seller_id=VENDOR, kind="vendor", region="eu",
                  marketplaces=[DE_MARKET], credentials_ref="env:HOMING_TEST_ACCOUNT_VENDOR")
    session.commit()
    yield secret_file
    app.extensions.pop("homing_spapi_buckets", None)


def _de_order(**extra) -> dict:
    return {"seller_id": DE, "marketplace_id": DE_MARKET, "currency": "EUR",
            "buyer": {"email": "kunde@example.de", "postal_code": "10117", "country": "DE"},
            "lines": [{"item_id": "33333333333333", "sku": "JACKE-M", "title": "Regenjacke",
                       "category": "apparel", "size_class": "small", "quantity": 1,
                       # VAT-inclusive, as EU marketplaces show it: ItemTax 0.00
                       "item_price": "119.00", "item_tax": "0.00"}], **extra}


def _push(app):
    make = jobs.connector_for(app)
    results = service.push(accounts_session(), make)
    accounts_session().commit()
    jobs.save_health(make.tracker)
    return results


def accounts_session():
    from hub.extensions import db

    return db.session


def test_expired_credentials_stop_only_that_account(app, client, api_key, session, sandbox,
                                                    emu, three_accounts):
    us = completed_refund(client, api_key, session, sandbox, order_id="114-1111111-0000001",
                          seller_id=US)
    de = completed_refund(client, api_key, session, sandbox, order_id="302-2222222-0000002",
                          seed=False, lines=[{"item_id": "33333333333333", "quantity": 1,
                                              "reason": "changed_mind.better_price"}],
                          order=_de_order())
    assert (us.status, de.status) == ("queued", "queued")
    assert de.currency == "EUR"

    emu.revoke(TOKENS[DE][0])  # the DE seller's refresh token expired
    results = _push(app)
    session.expire_all()
    assert session.get(Refund, us.id).status == "succeeded"
    # Nothing went out: claimed into a feed whose document never reached Amazon.
    assert session.get(Refund, de.id).status == "submitting"
    assert session.scalar(sa.select(FeedSubmission.status).where(
        FeedSubmission.seller_id == DE)) == "building"
    assert any(r.status == "error" and "invalid_grant" in r.detail for r in results)
    de_account = accounts.get(session, DE)
    assert (de_account.health, de_account.health_code) == ("refused", "invalid_grant")
    assert accounts.get(session, US).health == "ok"
    # No feed was created for DE, and its uploaded document is still ours to resend.
    assert {a["seller_id"] for a in emu.state()["applied"]} == {US}

    # The next run leaves the refused account alone (no call to Amazon with those tokens).
    calls = dict(emu.state()["requests"])
    results = _push(app)
    assert [r.status for r in results] == ["account_unavailable"]
    assert emu.state()["requests"] == calls

    # HQ's overdue list and the alert name the account, never a secret.
    items = [i for i in overdue(session, utcnow()) if i.kind == "amazon_account"]
    assert [(i.ref, i.state) for i in items] == [(DE, "refused")]
    assert TOKENS[DE][0] not in repr(items)

    # The periodic check tries every account with LWA: the vendor's credentials work.
    jobs.check_accounts(app)
    session.expire_all()
    assert accounts.get(session, VENDOR).health == "ok"
    assert accounts.get(session, DE).health == "refused"

    # The seller authorises the app again; the new token goes into the secret file.
    TOKENS[DE] = ("Atzr|de-refresh-2", *TOKENS[DE][1:])
    emu.add_account(DE, *TOKENS[DE])
    _file(three_accounts, DE)
    _push(app)
    session.expire_all()
    assert session.get(Refund, de.id).status == "succeeded"
    assert accounts.get(session, DE).health == "ok"
    [applied] = [a for a in emu.state()["applied"] if a["seller_id"] == DE]
    assert (applied["currency"], applied["marketplace_id"]) == ("EUR", DE_MARKET)
    assert applied["charges"]["Principal"] == 11900 and not applied["charges"].get("Tax")
    TOKENS[DE] = ("Atzr|de-refresh", *TOKENS[DE][1:])


def test_missing_credentials_stop_only_that_account(app, client, api_key, session, sandbox,
                                                    emu, three_accounts, monkeypatch):
    monkeypatch.delenv("HOMING_TEST_ACCOUNT_US_LWA_CLIENT_SECRET")
    us = completed_refund(client, api_key, session, sandbox, order_id="114-1111111-0000003",
                          seller_id=US)
    de = completed_refund(client, api_key, session, sandbox, order_id="302-2222222-0000004",
                          seed=False, lines=[{"item_id": "33333333333333", "quantity": 1,
                                              "reason": "changed_mind.better_price"}],
                          order=_de_order())
    results = _push(app)
    session.expire_all()
    assert session.get(Refund, us.id).status == "queued"  # not even claimed
    assert session.get(Refund, de.id).status == "succeeded"
    assert [r.status for r in results if r.status == "account_unavailable"]
    account = accounts.get(session, US)
    assert (account.health, account.health_code) == ("missing", "env_missing")
    # The detail names the variable, not a value.
    assert account.health_detail == "HOMING_TEST_ACCOUNT_US_LWA_CLIENT_SECRET"
    assert not session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission).where(
        FeedSubmission.seller_id == US))


def test_each_account_has_its_own_token_buckets(app, session, sandbox, emu, three_accounts):
    from hub.amazon.ratelimit import USAGE_PLANS

    make = jobs.connector_for(app)
    us, de = make(US), make(DE)
    assert us.buckets is de.buckets  # one store of buckets, keyed by account
    burst = USAGE_PLANS["createFeed"][1]
    waits = [us.buckets.take(US, "createFeed") for _ in range(burst + 1)]
    assert waits[-1] > 0  # the US account's createFeed bucket is empty ...
    assert de.buckets.take(DE, "createFeed") == 0  # ... the DE account's is not


def test_account_input_is_checked(session):
    with pytest.raises(accounts.AccountInputError) as bad:
        accounts.save(session, seller_id="A1", kind="seller", region="na",
                      marketplaces=[DE_MARKET], credentials_ref="env:X")
    assert bad.value.field == "marketplaces"  # DE is in region eu
    with pytest.raises(accounts.AccountInputError) as bad:
        accounts.save(session, seller_id="A1", kind="seller", region="na",
                      marketplaces=[US_MARKET], credentials_ref="refresh-token-in-clear")
    assert bad.value.field == "credentials_ref"
    with pytest.raises(accounts.AccountInputError):
        accounts.save(session, seller_id="A1; DROP", kind="seller", region="na",
                      marketplaces=[], credentials_ref="env:X")
    assert session.scalar(sa.select(sa.func.count()).select_from(AmazonAccount)) == 0


def test_homing_check_names_unreadable_credentials_without_values(app, runner, session,
                                                                  monkeypatch, tmp_path):
    for key, value in {"SECRET_KEY": "s" * 64, "MOUNT_SANDBOX": False, "AMAZON_MODE": "sandbox",
                       "AMAZON_ENDPOINT": "http://x"}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setenv("HOMING_CHECK_EU_REFRESH_TOKEN", "Atzr|secret-value")
    monkeypatch.setenv("HOMING_CHECK_EU_LWA_APP_ID", "amzn1.application-oa2-client.x")
    accounts.save(session, seller_id="A2CHECKEU", kind="seller", region="eu",
                  marketplaces=[DE_MARKET], credentials_ref="env:HOMING_CHECK_EU")
    accounts.save(session, seller_id="A3CHECKJP", kind="seller", region="fe",
                  marketplaces=["A1VC38T7YXB528"],
                  credentials_ref=f"file:{tmp_path / 'absent.json'}")
    session.commit()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "HOMING_CHECK_EU_LWA_CLIENT_SECRET" in result.output
    assert "absent.json" in result.output and "file_missing" in result.output
    assert "secret-value" not in result.output
    monkeypatch.setenv("HOMING_CHECK_EU_LWA_CLIENT_SECRET", "another-secret")
    (tmp_path / "absent.json").write_text(json.dumps(
        {"refresh_token": "r", "lwa_app_id": "a", "lwa_client_secret": "s"}))
    ok = runner.invoke(args=["check"])
    assert ok.exit_code == 0, ok.output
    assert "2 with readable credentials" in ok.output and "another-secret" not in ok.output


def test_hq_shows_each_accounts_health_and_only_admins_act(app, client, session, sandbox, emu,
                                                           three_accounts):
    from hub.audit.models import AuditEvent
    from tests.integration.hq_helpers import hq_user, sign_in

    emu.revoke(TOKENS[DE][0])
    hq_user(session, "admin")
    hq_user(session, "finance")
    sign_in(client, "admin@hq.example")
    for seller in (US, DE, VENDOR):
        assert client.post(f"/hq/accounts/{seller}/check").status_code == 302
    page = client.get("/hq/accounts").get_data(as_text=True)
    assert 'data-account="A2DESELLERX" data-health="refused"' in page
    assert "Amazon refused the refresh token" in page  # what to do about it, in words
    assert 'data-account="VENDX" data-health="ok"' in page and "Vendor Central" in page
    assert "amazon.de" in page and "env:HOMING_TEST_ACCOUNT_VENDOR" in page
    assert TOKENS[DE][0] not in page and TOKENS[US][2] not in page
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "amazon_account.checked")) == 3

    # A secret typed where the reference goes is refused, and nothing is kept.
    refused = client.post("/hq/accounts", data={
        "seller_id": "A9NEW", "kind": "seller", "region": "eu", "marketplaces": DE_MARKET,
        "credentials_ref": "Atzr|IwEBIA-a-real-looking-token"}, follow_redirects=True)
    assert "never the secret itself" in refused.get_data(as_text=True)
    assert accounts.get(session, "A9NEW") is None
    hostile = client.post("/hq/accounts", data={
        "seller_id": "<script>x</script>", "kind": "admin", "region": "eu",
        "marketplaces": "", "credentials_ref": "env:X"}, follow_redirects=True)
    assert hostile.status_code == 200 and "<script>x" not in hostile.get_data(as_text=True)
    assert client.post("/hq/accounts/NOPE/check", follow_redirects=True).status_code == 200

    # German HQ: the explanation is translated.
    german = client.get("/hq/accounts", headers={"Accept-Language": "de-DE"})
    assert "Amazon refused the refresh token" not in german.get_data(as_text=True)

    client.post("/hq/logout")
    sign_in(client, "finance@hq.example")
    assert client.get("/hq/accounts").status_code == 200  # finance sees the health ...
    assert client.post(f"/hq/accounts/{DE}/check").status_code == 403  # ... but cannot act
    assert client.post(f"/hq/accounts/{DE}/active", data={"active": "0"}).status_code == 403
    assert accounts.get(session, DE).active


def test_pulls_run_per_account_and_skip_a_refused_one(app, session, sandbox, emu,
                                                      three_accounts):
    from hub.amazon.connector import CredentialsRefused

    emu.revoke(TOKENS[DE][0])
    with pytest.raises(CredentialsRefused):  # the job shows as failing ...
        jobs.pull_finances(app)
    pulled = emu.state()["requests"].get("listFinancialEvents", 0)
    assert pulled >= 1  # ... after the US account's pull went through
    session.expire_all()
    assert accounts.get(session, DE).health == "refused"
    jobs.pull_finances(app)  # now the DE account is skipped: nothing fails
    assert emu.state()["requests"]["listFinancialEvents"] > pulled


def test_each_account_is_settled_on_its_own_in_its_currency(app, client, api_key, session,
                                                            sandbox, emu, three_accounts):
    from hub.amazon.models import SettlementLine

    us = completed_refund(client, api_key, session, sandbox, order_id="114-1111111-0000005",
                          seller_id=US)
    de = completed_refund(client, api_key, session, sandbox, order_id="302-2222222-0000006",
                          seed=False, lines=[{"item_id": "33333333333333", "quantity": 1,
                                              "reason": "changed_mind.better_price"}],
                          order=_de_order())
    _push(app)
    emu.advance(600)
    cut = emu.close_settlement()["settlements"]
    assert sorted((s["seller_id"], s["currency"]) for s in cut) == [(US, "USD"), (DE, "EUR")]
    jobs.pull_settlements(app)
    session.expire_all()
    assert session.get(Refund, us.id).status == session.get(Refund, de.id).status == "settled"
    currencies = dict(session.execute(sa.select(SettlementLine.refund_id,
                                                SettlementLine.currency).where(
        SettlementLine.source == "settlement", SettlementLine.refund_id.is_not(None))).all())
    assert currencies == {us.id: "USD", de.id: "EUR"}
