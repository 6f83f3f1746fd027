"""QR renderings of a voucher token (PNG with Pillow, SVG), cached by token."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(token: str) -> qrcode.QRCode:
    # Medium error correction and a 4-module quiet zone: reads from a phone screen with glare.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(token)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=512)
def qr_png(token: str) -> bytes:
    image = _qr(token).make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=512)
def qr_svg(token: str) -> bytes:
    image = _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
