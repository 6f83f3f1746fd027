"""WSGI entry point of the installed package: ``gunicorn hub.wsgi:app``. Refuses to start with
unsafe settings (see ``homing check``)."""

from hub import create_app, refuse_unsafe_settings

app = refuse_unsafe_settings(create_app())
