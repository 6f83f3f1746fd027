"""The ``homing`` command: a Flask CLI group over ``create_app``.

``homing db upgrade`` (Flask-Migrate), ``homing check``, ``homing demo``, ``homing worker``,
``homing stores import FILE``, ``homing keys create``, ``homing bench routing``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from hub.extensions import db


def _create_app() -> Flask:
    from hub import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Homing: the returns hub."""


def register_cli(app: Flask) -> None:
    for command in (stores_cli, keys_cli, vouchers_cli, devices_cli, users_cli, demo, worker,
                    bench_cli, sandbox_cli, check, shoppers_cli, stock_cli,
                    accounts_cli):
        app.cli.add_command(command)


def ensure_instance_dir(app: Flask) -> None:
    """SQLite and photo storage live under the instance folder; make sure it exists."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["PHOTO_DIR"]).mkdir(parents=True, exist_ok=True)


# --- stores ---------------------------------------------------------------------------------

@click.group("stores")
def stores_cli() -> None:
    """Manage stores."""


@stores_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Default: from the file extension.")
@click.option("--map", "mappings", multiple=True, metavar="FIELD=HEADER",
              help="Map one of our fields to the file's column header, e.g. --map code=StoreNo")
@click.option("--show-errors", default=50, show_default=True,
              help="How many rejected rows to list.")
@with_appcontext
def stores_import(file: Path, fmt: str | None, mappings: tuple[str, ...], show_errors: int):
    """Import (upsert by store code) stores from a CSV or JSON file."""
    from tqdm import tqdm

    from hub.audit.service import Actor
    from hub.stores.service import import_stores

    fmt = fmt or ("json" if file.suffix.lower() == ".json" else "csv")
    column_map = _parse_mappings(mappings)
    total = _count_rows(file, fmt)
    with file.open(encoding="utf-8-sig", newline="") as stream, \
            tqdm(total=total, unit="row", desc="stores", file=sys.stderr,
                 disable=None) as bar:
        summary = import_stores(db.session, stream, fmt=fmt, column_map=column_map,
                                actor=Actor("system", None, "cli"), progress=bar.update)
    db.session.commit()
    for warning in summary.warnings[:show_errors]:
        click.echo(f"line {warning.line}: warning: {warning.reason}", err=True)
    for error in summary.errors[:show_errors]:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    if len(summary.errors) > show_errors:
        click.echo(f"... and {len(summary.errors) - show_errors} more rejected rows", err=True)
    click.echo(summary.line())


def _parse_mappings(mappings: tuple[str, ...]) -> dict[str, str] | None:
    result = {}
    for item in mappings:
        field, sep, header = item.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise click.BadParameter(f"{item!r} is not FIELD=HEADER", param_hint="--map")
        result[field.strip()] = header.strip()
    return result or None


def _count_rows(file: Path, fmt: str) -> int | None:
    if fmt != "csv":
        return None
    with file.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


# --- stock ----------------------------------------------------------------------------------

@click.group("stock")
def stock_cli() -> None:
    """Store stock from the POS or ERP."""


@stock_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace/--no-replace", default=True, show_default=True,
              help="The file is each listed store's whole stock: SKUs it leaves out go to 0.")
@with_appcontext
def stock_import(file: Path, replace: bool):
    """Set store stock from a CSV export with the columns store, sku, quantity. A file with a
    bad row changes nothing (every bad row is listed by line)."""
    from hub.stock import service as stock
    from hub.stores.service import get_store
    from hub.validation import InvalidInput

    try:
        by_store = stock.parse_csv(file.read_text(encoding="utf-8-sig"))
        stores = {code: get_store(db.session, code) for code in by_store}
        unknown = sorted(code or "(empty)" for code, store in stores.items() if store is None)
        if unknown:
            raise InvalidInput([{"field": "store", "message": f"no store with code {code!r}"}
                                for code in unknown])
    except InvalidInput as exc:
        for error in exc.errors:
            click.echo(f"{error['field']}: {error['message']}", err=True)
        raise SystemExit(1) from exc
    changed = 0
    for code, counts in by_store.items():
        changed += len(stock.set_counts(db.session, stores[code], counts, replace=replace,
                                        reference=f"import {file.name}"[:120]))
    db.session.commit()
    click.echo(f"{sum(len(c) for c in by_store.values())} rows, {len(by_store)} stores, "
               f"{changed} SKUs changed")


# --- keys -----------------------------------------------------------------------------------

@click.group("keys")
def keys_cli() -> None:
    """Manage API keys."""


@keys_cli.command("create")
@click.option("--role", required=True,
              type=click.Choice(["clerk", "supervisor", "hq_ops", "finance", "admin"]))
@click.option("--store", "store_code", default=None, help="Scope the key to one store.")
@click.option("--name", default="", help="What the key is for.")
@with_appcontext
def keys_create(role: str, store_code: str | None, name: str):
    """Create an API key. The key is printed once, alone on the last line."""
    from hub.audit.service import Actor, record
    from hub.auth.service import AuthError, create_api_key

    try:
        key, plaintext = create_api_key(db.session, role=role, store_code=store_code, name=name)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    record(db.session, Actor("system", None, "cli"), "api_key.created", "api_key", key.id,
           after={"role": role, "store_id": key.store_id, "prefix": key.prefix})
    db.session.commit()
    click.echo(f"created API key {key.prefix} (role {role}"
               f"{', store ' + store_code if store_code else ''}); it is shown only now:",
               err=True)
    click.echo(plaintext)


def _cli_scope_actor():
    """Whoever runs the CLI on the server acts as an admin; audited as "cli"."""
    from hub.audit.service import Actor
    from hub.hq.access import Scope

    return Scope(None, "admin", label="cli"), Actor("system", None, "cli")


@keys_cli.command("list")
@with_appcontext
def keys_list():
    """API keys: prefix, role, store, last use, revoked (never the key itself)."""
    from hub.auth.models import ApiKey

    for key in db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)):
        click.echo(f"{key.prefix}  {key.role:<10} store={key.store_id or '-':<6} "
                   f"last_used={key.last_used_at or '-'}  "
                   f"{'REVOKED' if key.revoked_at else 'active'}  {key.name}")


@keys_cli.command("revoke")
@click.argument("prefix")
@with_appcontext
def keys_revoke(prefix: str):
    """Revoke the API key with this prefix (the part after hom_)."""
    from hub.auth.models import ApiKey
    from hub.hq import admin

    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise click.ClickException(f"no API key with prefix {prefix!r}")
    admin.revoke_key(db.session, *_cli_scope_actor(), key)
    db.session.commit()
    click.echo(f"revoked {prefix}")


@click.group("vouchers")
def vouchers_cli() -> None:
    """Voucher signing keys."""


@vouchers_cli.command("new-key")
def vouchers_new_key():
    """Print a fresh Ed25519 signing key for HOMING_VOUCHER_SIGNING_KEY (and its public key).
    To rotate: move the old public key into HOMING_VOUCHER_RETIRED_KEYS, then switch."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from hub.vouchers.crypto import public_key_text

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    click.echo(f"public key (for HOMING_VOUCHER_RETIRED_KEYS after a later rotation): "
               f"{public_key_text(key.public_key())}", err=True)
    click.echo(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


@click.group("devices")
def devices_cli() -> None:
    """Enrol store tablets."""


@devices_cli.command("enroll")
@click.option("--store", "store_code", required=True, help="The store the tablet serves.")
@click.option("--name", required=True, help="e.g. 'Front counter'.")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the tablet reaches Homing.")
@with_appcontext
def devices_enroll(store_code: str, name: str, base_url: str):
    """Enrol a tablet to a store; prints the one-time enrolment link (open it on the tablet)."""
    from hub.audit.service import Actor, record
    from hub.auth.service import enroll_device
    from hub.stores.service import get_store

    store = get_store(db.session, store_code)
    if store is None:
        raise click.ClickException(f"no store with code {store_code!r}")
    device, token = enroll_device(db.session, store_id=store.id, name=name)
    record(db.session, Actor("system", None, "cli"), "device.enrolled", "device", device.id,
           store_id=store.id, after={"name": name})
    db.session.commit()
    click.echo(f"enrolled device {device.token_prefix} to {store.name}; open this link on the "
               "tablet (it is shown only now):", err=True)
    click.echo(f"{base_url.rstrip('/')}/store/enroll?token={token}")


@devices_cli.command("revoke")
@click.argument("prefix")
@with_appcontext
def devices_revoke(prefix: str):
    """Revoke a tablet's enrolment (lost or stolen tablet): it is signed out at once."""
    from hub.auth.models import Device
    from hub.hq import admin

    device = db.session.scalar(sa.select(Device).where(Device.token_prefix == prefix))
    if device is None:
        raise click.ClickException(f"no tablet with prefix {prefix!r}")
    admin.revoke_device(db.session, *_cli_scope_actor(), device)
    db.session.commit()
    click.echo(f"revoked tablet {device.name} ({prefix})")


@click.group("users")
def users_cli() -> None:
    """Manage people: store staff (PIN) and HQ staff (password)."""


@users_cli.command("create")
@click.option("--role", required=True,
              type=click.Choice(["clerk", "supervisor", "hq_ops", "finance", "admin"]))
@click.option("--name", required=True)
@click.option("--store", "store_code", default=None, help="Required for clerk and supervisor.")
@click.option("--staff-number", default=None, help="What store staff type before the PIN.")
@click.option("--email", default=None, help="HQ sign-in.")
@with_appcontext
def users_create(role: str, name: str, store_code: str | None, staff_number: str | None,
                 email: str | None):
    """Create a user; asks for the PIN (store staff) or password (HQ) without echoing it."""
    from hub.audit.service import Actor, record
    from hub.auth.service import AuthError, create_user
    from hub.stores.service import get_store

    store = get_store(db.session, store_code) if store_code else None
    if store_code and store is None:
        raise click.ClickException(f"no store with code {store_code!r}")
    store_staff = role in ("clerk", "supervisor")
    if store_staff and not staff_number:
        raise click.ClickException("store staff need --staff-number")
    secret = click.prompt("PIN" if store_staff else "Password", hide_input=True,
                          confirmation_prompt=True)
    try:
        user = create_user(db.session, name=name, role=role, email=email,
                           store_id=store.id if store else None, staff_number=staff_number,
                           pin=secret if store_staff else None,
                           password=None if store_staff else secret)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    record(db.session, Actor("system", None, "cli"), "user.created", "user", user.id,
           store_id=user.store_id, after={"role": role})
    db.session.commit()
    click.echo(f"created {role} {name} (id {user.id})")


@users_cli.command("list")
@with_appcontext
def users_list():
    """People: id, role, store, sign-in name, locked or inactive."""
    from hub.auth.models import User
    from hub.models import utcnow

    now = utcnow()
    for user in db.session.scalars(sa.select(User).order_by(User.id)):
        flags = [f for f, on in (("inactive", not user.active),
                                 ("locked", bool(user.locked_until and user.locked_until > now)))
                 if on]
        click.echo(f"{user.id:>5}  {user.role:<10} store={user.store_id or '-':<6} "
                   f"{user.email or '#' + (user.staff_number or '')}  {user.name}  "
                   f"{' '.join(flags)}")


@users_cli.command("deactivate")
@click.argument("user_id", type=int)
@with_appcontext
def users_deactivate(user_id: int):
    """Stop a person signing in (their history stays)."""
    from hub.auth.models import User
    from hub.hq import admin

    user = db.session.get(User, user_id)
    if user is None:
        raise click.ClickException(f"no user {user_id}")
    admin.set_user_active(db.session, *_cli_scope_actor(), user, False)
    db.session.commit()
    click.echo(f"deactivated {user.name}")


@users_cli.command("unlock")
@click.argument("user_id", type=int)
@with_appcontext
def users_unlock(user_id: int):
    """Lift a lock-out after too many wrong passwords or PINs."""
    from hub.auth.models import User
    from hub.hq import admin

    user = db.session.get(User, user_id)
    if user is None:
        raise click.ClickException(f"no user {user_id}")
    admin.unlock_user(db.session, *_cli_scope_actor(), user)
    db.session.commit()
    click.echo(f"unlocked {user.name}")


# --- demo and worker ------------------------------------------------------------------------

@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and seed, then exit.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool):
    """Create/migrate the SQLite database, seed demo data if empty, serve the app."""
    from hub.demo.seed import seed_demo
    from hub.jobs.runner import InProcessRunner

    app = current_app._get_current_object()
    ensure_instance_dir(app)
    _upgrade_database()
    credentials = seed_demo(app)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if app.config.get("MOUNT_SANDBOX") and not app.config.get("AMAZON_ENDPOINT"):
        # Refunds go to the built-in SP-API sandbox this very server mounts.
        app.config["AMAZON_ENDPOINT"] = f"{base}/sandbox/spapi"
        from hub.demo.seed import amazon_only_orders

        app.extensions["homing_sandbox"].add_orders(amazon_only_orders())
    click.echo(f"\nHoming demo — database {app.config['SQLALCHEMY_DATABASE_URI']}")
    click.echo(f"  open            {base}/")
    click.echo(f"  API health      {base}/api/v1/health")
    click.echo(f"  API document    {base}/api/openapi.json")
    click.echo(f"  Amazon sandbox  {base}/sandbox/spapi/_emu/state")
    for label, value in credentials.items():
        click.echo(f"  {label:<15} {base + value if value.startswith('/') else value}")
    if no_serve:
        return
    runner = InProcessRunner(app)
    runner.start()
    click.echo("\nIn-process job runner started (no Redis needed). Ctrl+C to stop.\n")
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic jobs in this worker.")
@with_appcontext
def worker(burst: bool, no_cron: bool):
    """Run an RQ worker (with its scheduler and the periodic jobs)."""
    from hub import UnsafeSettings, refuse_unsafe_settings
    from hub.jobs.worker import run_worker

    app = current_app._get_current_object()
    try:
        refuse_unsafe_settings(app)
    except UnsafeSettings:
        sys.exit(2)  # the report is already on stderr
    run_worker(app, burst=burst, with_cron=not no_cron)


# --- shoppers: data-subject requests -------------------------------------------------------

@click.group("shoppers")
def shoppers_cli() -> None:
    """A shopper's personal data: export it, or erase it."""


@shoppers_cli.command("export")
@click.argument("email")
@with_appcontext
def shoppers_export(email: str):
    """Print, as JSON, everything Homing keeps about the shopper with this e-mail."""
    from hub.privacy import export_shopper

    click.echo(json.dumps(export_shopper(db.session, email), indent=2, ensure_ascii=False))


@shoppers_cli.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def shoppers_erase(email: str, yes: bool):
    """Remove the shopper's e-mail, name, postal code and position from their orders and
    returns (the orders, returns and refunds themselves stay, for the books). Audited."""
    from hub.audit.service import Actor
    from hub.privacy import erase_shopper

    if not yes:
        click.confirm(f"Erase the personal data of {email}?", abort=True)
    counts = erase_shopper(db.session, email, Actor("system", None, "cli"))
    db.session.commit()
    click.echo(f"erased {email}: {counts['orders']} orders, {counts['returns']} returns")


# --- settings check -------------------------------------------------------------------------

@click.command("check")
@with_appcontext
def check():
    """Check the settings before serving: exits 1 and says what to fix if any is unsafe
    (the web app and the worker refuse to start with the same list)."""
    from hub import config as cfg

    app = current_app._get_current_object()
    problems = cfg.check_settings(app.config)
    if problems:
        click.echo(cfg.settings_report(problems), err=True)
        sys.exit(1)
    account_problems = _account_problems(app)
    if account_problems:
        click.echo("Amazon accounts whose credentials cannot be read (no value is shown):",
                   err=True)
        for line in account_problems:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo(f"settings OK to serve: database {url.render_as_string(hide_password=True)}, "
               f"Amazon {app.config['AMAZON_MODE']}, sandbox "
               f"{'mounted' if app.config.get('MOUNT_SANDBOX') else 'not mounted'}")


def _account_problems(app: Flask) -> list[str]:
    """Each active account's credential reference must resolve (names only, never values)."""
    from hub.amazon import accounts

    try:
        found = [a for a in accounts.all_accounts(db.session) if a.active]
    except sa.exc.SQLAlchemyError:  # no database yet (before `homing db upgrade`)
        db.session.rollback()
        click.echo("Amazon accounts not checked: the database is not reachable or not "
                   "migrated", err=True)
        return []
    problems = []
    for account in found:
        why = accounts.check_reference(app, account)
        if why:
            problems.append(f"{account.seller_id} ({account.kind}, "
                            f"{account.credentials_ref}): {why}")
    if found and not problems:
        click.echo(f"Amazon accounts: {len(found)} with readable credentials")
    return problems


# --- Amazon accounts ------------------------------------------------------------------------

@click.group("accounts")
def accounts_cli() -> None:
    """Amazon selling accounts (seller ids and vendor codes) and their credential references."""


@accounts_cli.command("add")
@click.argument("seller_id")
@click.option("--kind", type=click.Choice(["seller", "vendor"]), default="seller",
              show_default=True)
@click.option("--region", type=click.Choice(["na", "eu", "fe"]), required=True)
@click.option("--marketplace", "marketplaces", multiple=True, required=True,
              help="Marketplace id, e.g. A1PA6795UKMFR9 (amazon.de); repeat for more.")
@click.option("--credentials", "reference", required=True,
              help="env:PREFIX (reads PREFIX_REFRESH_TOKEN, PREFIX_LWA_APP_ID, "
                   "PREFIX_LWA_CLIENT_SECRET) or file:/run/secrets/amazon-eu.json")
@click.option("--name", default="")
@with_appcontext
def accounts_add(seller_id, kind, region, marketplaces, reference, name):
    """Add or change an account (only the reference is stored; then `homing accounts check`)."""
    from hub.amazon import accounts

    try:
        account = accounts.save(db.session, seller_id=seller_id, kind=kind, region=region,
                                marketplaces=list(marketplaces), credentials_ref=reference,
                                name=name)
    except accounts.AccountInputError as exc:
        raise click.BadParameter(exc.message, param_hint=exc.field) from None
    db.session.commit()
    click.echo(f"account {account.seller_id} ({account.kind}, {account.region}): "
               f"{', '.join(account.marketplaces)}; credentials {account.credentials_ref}")


@accounts_cli.command("list")
@with_appcontext
def accounts_list():
    from hub.amazon import accounts

    for a in accounts.all_accounts(db.session):
        click.echo(f"{a.seller_id}\t{a.kind}\t{a.region}\t{','.join(a.marketplaces)}\t"
                   f"{a.credentials_ref}\t{a.health} {a.health_code}".rstrip())


@accounts_cli.command("check")
@with_appcontext
def accounts_check():
    """Read each account's credentials and sign in with LWA (exits 1 if one fails)."""
    from hub.amazon import accounts

    app = current_app._get_current_object()
    failed = 0
    for account in accounts.all_accounts(db.session):
        if not account.active:
            continue
        health = accounts.check(app, account)
        failed += health != "ok"
        click.echo(f"{account.seller_id}: {health} {account.health_code} "
                   f"{account.health_detail}".rstrip())
    db.session.commit()
    sys.exit(1 if failed else 0)


@click.group("sandbox")
def sandbox_cli() -> None:
    """The built-in SP-API sandbox as a server of its own."""


@sandbox_cli.command("serve")
@click.option("--port", default=5001, show_default=True, type=int,
              help="Port on 127.0.0.1 (0: any free port). Its /_emu/ API has no login, so it "
                   "never listens beyond this machine.")
def sandbox_serve(port: int):
    """Serve the SP-API sandbox alone at http://127.0.0.1:PORT (Ctrl+C to stop)."""
    from hub.sandbox import SandboxServer

    server = SandboxServer(port)
    click.echo(f"SP-API sandbox at {server.url} (state: {server.url}/_emu/state)")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


# --- benchmarks -----------------------------------------------------------------------------

@click.group("bench")
def bench_cli() -> None:
    """Benchmarks that print figures (see README)."""


@bench_cli.command("routing")
@click.option("--stores", "n_stores", default=25_000, show_default=True)
@click.option("--queries", "n_queries", default=1_000, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--baseline-queries", default=100, show_default=True,
              help="How many of the queries also run the brute-force baseline (~2 s each).")
@click.option("--service/--no-service", default=True, show_default=True,
              help="Also time service.route on PostgreSQL, as a request sees it.")
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where a scratch database is made.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON too.")
def bench_routing(n_stores: int, n_queries: int, seed: int, baseline_queries: int,
                  service: bool, admin_url: str, as_json: bool):
    """Top-5 routing among N stores beside sklearn's BallTree, checked by brute force."""
    from tqdm import tqdm

    from hub.stores.bench import correct, report, run_routing_benchmark, run_service_benchmark

    try:
        import sklearn  # noqa: F401  (the peer it is measured beside)
    except ImportError:
        raise click.ClickException(
            "the routing bench measures Homing beside scikit-learn's BallTree; install the "
            "bench extra first: .venv/bin/pip install -e '.[bench]'") from None
    with tqdm(total=n_queries, unit="query", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        figures = run_routing_benchmark(n_stores=n_stores, n_queries=n_queries, seed=seed,
                                        baseline_queries=baseline_queries, progress=progress)
    if service:
        run_service_benchmark(figures, admin_url=admin_url, n_queries=n_queries, seed=seed)
    for line in report(figures):
        click.echo(line)
    if as_json:
        click.echo(json.dumps(figures, indent=2, default=str))
    if not correct(figures):
        raise SystemExit(1)


@bench_cli.command("vouchers")
@click.option("--count", "n", default=200, show_default=True)
def bench_vouchers(n: int):
    """Voucher issue end to end (API) and QR render time, cold and cached."""
    from tqdm import tqdm

    from hub.vouchers.bench import report, run_voucher_benchmark

    with tqdm(total=n, unit="voucher", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        figures = run_voucher_benchmark(n, progress=progress)
    for line in report(figures):
        click.echo(line)


@bench_cli.command("counter")
@click.option("--runs", default=20, show_default=True)
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A fresh database is made here; 'sqlite' for a file.")
def bench_counter(runs: int, admin_url: str):
    """The counter's fast path: taps and server time of a 2-unit return."""
    from hub.counter.bench import report, run
    from hub.intake.bench import fresh_database

    url = None if admin_url == "sqlite" else fresh_database(admin_url, "homing_bench_counter")
    for line in report(run(runs, url)):
        click.echo(line)


@bench_cli.command("scan")
@click.option("--vouchers", "n", default=1000, show_default=True)
@click.option("--connections", default=16, show_default=True)
@click.option("--seconds", default=20, show_default=True)
@click.option("--workers", default=4, show_default=True, help="gunicorn processes")
@click.option("--threads", default=4, show_default=True, help="threads per process")
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where a scratch database is made.")
def bench_scan(n: int, connections: int, seconds: int, workers: int, threads: int,
               admin_url: str):
    """Scan lookup under load (gunicorn + PostgreSQL + wrk) and one intake's wire cost."""
    from tqdm import tqdm

    from hub.database import fresh_database
    from hub.intake.bench import intake_wire_cost, prepare, report, run_load

    database_url = fresh_database(admin_url, "homing_bench_scan")
    with tqdm(total=n, unit="voucher", file=sys.stderr, disable=None,
              desc="issuing and opening") as bar:
        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        prepared = prepare(database_url, n, progress)
    click.echo(f"running wrk twice for {seconds} s ...", err=True)
    loads = [run_load(database_url, prepared, connections=connections, seconds=seconds,
                      workers=workers, threads=threads, keep_answers=keep)
             for keep in (False, True)]
    for line in report(loads, intake_wire_cost(), n):
        click.echo(line)


@bench_cli.command("pipeline")
@click.option("--returns", "n", default=10_000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="RQ worker processes")
@click.option("--speed", default=60.0, show_default=True,
              help="Sandbox clock speed; our token buckets refill at the same speed.")
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where a scratch database is made.")
def bench_pipeline(n: int, workers: int, speed: float, admin_url: str):
    """Accepted returns drained through RQ workers into the SP-API sandbox."""
    from tqdm import tqdm

    from hub.amazon.bench import report, run

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, unit="refund", file=sys.stderr,
                                     disable=None, desc=stage)
        bar.n = done
        bar.refresh()

    figures = run(admin_url, n, workers, speed, progress)
    for bar in bars.values():
        bar.close()
    for line in report(figures):
        click.echo(line)


@bench_cli.command("faults")
@click.option("--refunds", "n", default=400, show_default=True)
@click.option("--seed", default=1, show_default=True, help="First seed (run k uses seed+k).")
@click.option("--scenario", default="random", show_default=True,
              help="A row of issue 21 (create_feed_500_after_creation, answer_lost_twice, "
                   "get_feeds_fails_drop_and_loss, mixed_campaign, postgres_outage_during_relay, "
                   "redis_outage_idle, worker_killed_holding_push_lock) or random.")
@click.option("--runs", default=1, show_default=True)
@click.option("--settle-timeout", type=float, default=None,
              help="Seconds to wait for quiescence after the last fault (default: the "
                   "scenario's).")
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where a scratch database is made.")
@click.option("--redis-url", default=None,
              help="A Redis database the run may FLUSHDB (default: a private redis-server).")
@click.option("--keep", is_flag=True, help="Keep the scratch database for inspection.")
def bench_faults(n: int, seed: int, scenario: str, runs: int, settle_timeout: float | None,
                 admin_url: str, redis_url: str | None, keep: bool):
    """Fault campaign: refunds drained by workers while faults strike; invariants checked."""
    from hub.faults.bench import report, run_campaign
    from hub.faults.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        raise click.BadParameter(f"one of {', '.join(SCENARIOS)}", param_hint="--scenario")
    outcomes = []
    for k in range(runs):
        result = run_campaign(scenario, n, seed + k, admin_url=admin_url, redis_url=redis_url,
                              keep=keep, settle_timeout=settle_timeout)
        for line in report(result):
            click.echo(line)
        outcomes.append(result.passed)
    if runs > 1:
        click.echo(f"{sum(outcomes)}/{runs} runs held every invariant")
    if not all(outcomes):
        sys.exit(1)


@bench_cli.command("hq")
@click.option("--stores", "n_stores", default=1_000, show_default=True)
@click.option("--returns", "n_returns", default=100_000, show_default=True)
@click.option("--days", default=90, show_default=True, help="Spread of the history.")
@click.option("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="A PostgreSQL server where a scratch database is made.")
@click.option("--reuse", is_flag=True,
              help="Time the database an earlier run seeded (same sizes) instead of re-seeding.")
def bench_hq(n_stores: int, n_returns: int, days: int, admin_url: str, reuse: bool):
    """HQ dashboard time to first paint with many stores and returns in PostgreSQL."""
    from tqdm import tqdm

    from hub.database import fresh_database
    from hub.hq import bench

    name = "homing_bench_hq"
    reused = admin_url.rsplit("/", 1)[0] + f"/{name}"
    if reuse and bench.existing(reused) == (n_stores, n_returns):
        app, stores, seeded = bench.make_app(reused), n_stores, 0.0
    else:
        database_url = fresh_database(admin_url, name)
        with tqdm(total=n_returns, unit="return", file=sys.stderr, disable=None,
                  desc="seeding") as bar:
            app, stores, seeded = bench.prepare(database_url, n_stores, n_returns, days,
                                                bar.update)
    click.echo("timing the dashboard ...", err=True)
    pages = bench.time_pages(app)
    paint = bench.browser_first_paint(app)
    for line in bench.report(stores, n_returns, seeded, pages, paint):
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("FLASK_APP", "wsgi:app")
    main()
