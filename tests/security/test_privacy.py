"""A shopper's data-subject requests: `homing shoppers export EMAIL` shows what Homing keeps,
`homing shoppers erase EMAIL` removes the contact details and position (the return and its
money stay), audited without the address."""

from __future__ import annotations

import json

from hub.audit.models import AuditEvent
from hub.orders.models import Order
from hub.returns.models import ReturnAuthorization


def test_export_then_erase(runner, session, admin, rma):
    exported = runner.invoke(args=["shoppers", "export", "Shopper@Example.com"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert [o["postal_code"] for o in data["orders"]] == ["10001"]
    assert [r["number"] for r in data["returns"]] == [rma["number"]]
    erased = runner.invoke(args=["shoppers", "erase", "shopper@example.com", "--yes"])
    assert erased.exit_code == 0 and "1 orders, 1 returns" in erased.output
    order = session.query(Order).one()
    assert (order.buyer_email, order.buyer_name, order.ship_postal_code) == ("", "", "")
    kept = session.query(ReturnAuthorization).one()
    assert kept.shopper_email == "" and kept.origin_latitude is None
    assert kept.number == rma["number"] and kept.expected_refund > 0  # the books stay
    event = session.query(AuditEvent).filter_by(action="shopper.erased").one()
    assert "example.com" not in json.dumps(event.after) + str(event.subject_id)
    again = json.loads(runner.invoke(args=["shoppers", "export", "shopper@example.com"]).output)
    assert again["orders"] == [] and again["returns"] == []


def test_retention_removes_old_photos_and_finished_returns_personal_data(
        app, client, session, admin, rma, api_key, tmp_path):
    from datetime import timedelta
    from pathlib import Path

    import sqlalchemy as sa

    from hub.intake.models import Photo
    from hub.models import utcnow
    from hub.privacy_jobs import retention

    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    import io

    from PIL import Image

    for colour in ((10, 20, 30), (200, 0, 0)):
        raw = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(raw, "PNG")
        sent = client.post(f"/api/v1/intakes/{intake['id']}/photos", headers=clerk,
                           data={"photo": (io.BytesIO(raw.getvalue()), "u.png")})
        assert sent.status_code == 201
    old, new = session.scalars(sa.select(Photo).order_by(Photo.id)).all()
    old.taken_at = utcnow() - timedelta(days=400)
    client.post(f"/api/v1/intakes/{intake['id']}/abandon", headers=clerk)
    client.post(f"/api/v1/returns/{rma['number']}/cancel", headers=admin)
    session.execute(sa.update(ReturnAuthorization).values(
        updated_at=utcnow() - timedelta(days=800)))
    session.execute(sa.update(Order).values(delivered_at=utcnow() - timedelta(days=800)))
    session.commit()
    folder = Path(app.config["PHOTO_DIR"])
    old_file, new_file = folder / old.path, folder / new.path
    assert old_file.exists() and new_file.exists()

    retention(app)

    assert [p.id for p in session.scalars(sa.select(Photo))] == [new.id]
    assert not old_file.exists() and new_file.exists()
    kept = session.query(ReturnAuthorization).one()
    assert kept.shopper_email == "" and kept.status == "cancelled"
    assert session.query(Order).one().buyer_email == ""
    event = session.query(AuditEvent).filter_by(action="retention.swept").one()
    assert event.after["photos"] == 1 and event.after["returns"] == 1
