"""Alembic environment, driven by Flask-Migrate (``homing db upgrade``)."""

import logging
from logging.config import fileConfig

from alembic import context

import hub.model_registry  # noqa: F401  (the whole schema)
from hub.extensions import db

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

target_metadata = db.metadata


def _render_item(type_, obj, autogen_context):
    """Render our UtcDateTime as the plain timezone-aware DateTime it is in the database."""
    from hub.models import UtcDateTime

    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(**extra):
    return dict(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        render_item=_render_item,
        **extra,
    )


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    connectable = db.engine
    with connectable.connect() as connection:
        context.configure(connection=connection,
                          process_revision_directives=process_revision_directives,
                          **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
