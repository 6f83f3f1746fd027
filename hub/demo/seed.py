"""Demo data: a realistic store network (3,814 real US store locations, with generated opening
hours, categories and capacities) and the demo credentials. Seeds only an empty database."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from hub.audit.service import Actor
from hub.extensions import db
from hub.stores.models import Store
from hub.stores.service import import_stores

DATA = Path(__file__).parent / "data" / "us-stores-walmart.csv"

HOURS = (
    "Mon-Sat 08:00-22:00; Sun 09:00-20:00",
    "Mon-Fri 09:00-21:00; Sat 09:00-18:00; Sun 10:00-17:00",
    "Mon-Sun 07:00-23:00",
    "24/7",
    "Mon-Fri 10:00-20:00; Sat 10:00-18:00; Sun closed",
)
CATEGORY_SETS = (
    "general|apparel|electronics|home|toys",
    "general|apparel|home",
    "general|electronics|appliances|home|furniture",
    "general|apparel|shoes|beauty",
)
SIZE_SETS = ("small|medium|large", "small|medium", "small|medium|large|bulky")


def _pick(options: tuple[str, ...], key: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return options[digest[0] % len(options)]


def enriched_store_csv(path: Path = DATA) -> str:
    """The real locations plus deterministic hours, categories, sizes and capacity."""
    out = io.StringIO()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = [*reader.fieldnames, "hours", "categories", "size_classes", "capacity"]
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for row in reader:
            key = f"{row['latitude']},{row['longitude']}"
            row["hours"] = _pick(HOURS, key, "hours")
            row["categories"] = _pick(CATEGORY_SETS, key, "categories")
            row["size_classes"] = _pick(SIZE_SETS, key, "sizes")
            row["capacity"] = str(40 + hashlib.sha256(key.encode()).digest()[1] % 160)
            writer.writerow(row)
    return out.getvalue()


DEMO_API_KEY = "hom_demo0000_demo-admin-key-for-local-use-only"


def seed_demo(app: Flask) -> dict[str, str]:
    """Seed stores and demo credentials when the database is empty; return what to print."""
    if db.session.scalar(sa.select(sa.func.count(Store.id))) == 0:
        summary = import_stores(db.session, io.StringIO(enriched_store_csv()), fmt="csv",
                                actor=Actor("system", None, "demo-seed"))
        db.session.commit()
        app.logger.info("demo stores: %s", summary.line())
    _ensure_demo_key()
    db.session.commit()
    return {"API key (admin)": DEMO_API_KEY}


def _ensure_demo_key() -> None:
    from hub.auth.models import ApiKey
    from hub.auth.service import hash_api_key

    prefix = DEMO_API_KEY.split("_")[1]
    if db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix)) is None:
        db.session.add(ApiKey(name="demo admin", prefix=prefix, key_hash=hash_api_key(DEMO_API_KEY),
                              role="admin"))
