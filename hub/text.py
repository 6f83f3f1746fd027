"""Marking text for translation in code that must not import Flask.

``N_`` returns its argument unchanged; it only tells ``pybabel extract`` (``-k N_``) that the
string is user-facing. The string is translated where it is shown, with ``gettext``."""


def N_(message: str) -> str:  # noqa: N802 - the conventional name for a no-op marker
    return message
