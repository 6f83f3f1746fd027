"""WSGI entry point from a checkout: ``gunicorn wsgi:app`` (the package's is hub.wsgi)."""

from hub.wsgi import app  # noqa: F401
