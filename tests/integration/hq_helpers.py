"""Signing in to HQ in tests."""

from __future__ import annotations

from hub.auth.service import create_user
from hub.stores.service import get_store

PASSWORD = "correct horse battery"


def hq_user(session, role: str = "admin", email: str | None = None, store_code: str | None = None,
            staff_number: str | None = None):
    user = create_user(session, name=f"{role} person", role=role,
                       email=email or f"{role}@hq.example", password=PASSWORD,
                       store_id=get_store(session, store_code).id if store_code else None,
                       staff_number=staff_number, pin="4321" if store_code else None)
    session.commit()
    return user


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/hq/login", data={"email": email, "password": password})
