"""Fixtures of the hostile-input suite: an issued return, an HQ admin signed in, a tablet."""

from __future__ import annotations

import pytest

from tests.integration.factories import create_order, issue_return, seed_stores, store_user
from tests.integration.hq_helpers import hq_user, sign_in


@pytest.fixture
def admin(client, api_key, session):
    """Stores, an order and an admin API key (headers)."""
    seed_stores(session)
    headers = api_key("admin")
    create_order(client, headers)
    return headers


@pytest.fixture
def rma(client, admin):
    return issue_return(client, admin)


@pytest.fixture
def hq_admin(client, session, admin):
    hq_user(session, "admin", "boss@hq.example")
    assert sign_in(client, "boss@hq.example").status_code == 302
    return client


def enrolled_tablet(client, session, store_code: str = "NYC-1") -> None:
    from hub.auth.service import enroll_device
    from hub.stores.service import get_store

    _device, token = enroll_device(session, store_id=get_store(session, store_code).id,
                                   name="Counter")
    session.commit()
    assert client.post("/store/enroll", data={"token": token}).status_code == 302


def clerk_signed_in(client, session, store_code: str = "NYC-1", staff: str = "101",
                    pin: str = "2468") -> None:
    store_user(session, store_code, "clerk", staff, pin)
    enrolled_tablet(client, session, store_code)
    assert client.post("/store/login", data={"staff_number": staff, "pin": pin}
                       ).status_code == 302
