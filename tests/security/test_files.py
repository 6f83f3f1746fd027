"""Bad files. Promise: a photo is refused by the size its header claims before a pixel is
decoded (40 megapixels at most), anything that is not a JPEG/PNG/WebP photo is a 422, and a
photo of a QR code that cannot be read is "no code found", never a crash."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from hub.intake import photos


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid PNG of ``width``x``height`` black pixels (compresses to ~KiB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + b"\x00" * width  # filter byte + one grey byte per pixel
    raw = zlib.compress(row * height, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_claiming(7000, 7000)  # 49 MP: under Pillow's own refusal (2x its limit)


def test_a_49_megapixel_png_is_refused_before_decoding(bomb, monkeypatch):
    assert len(bomb) < 200_000
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: decoded.append(self.size) or None)
    with pytest.raises(photos.PhotoError) as refused:
        photos.clean(bomb)
    assert refused.value.code == "photo_too_large" and decoded == []
    assert photos.read_qr(bomb) is None and decoded == []


def test_the_api_answers_422_photo_too_large(client, api_key, admin, rma, bomb):
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    sent = client.post(f"/api/v1/intakes/{intake['id']}/photos", headers=clerk,
                       data={"photo": (io.BytesIO(bomb), "bomb.png")})
    assert sent.status_code == 422 and sent.get_json()["code"] == "photo_too_large"


@pytest.mark.parametrize("data,code", [
    (b"", "empty_photo"),
    (b"GIF89a" + b"\x00" * 20, "unreadable_photo"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "unreadable_photo"),  # truncated header
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unreadable_photo"),
], ids=["empty", "gif", "truncated", "svg"])
def test_what_is_not_a_photo_is_refused_by_name(data, code):
    with pytest.raises(photos.PhotoError) as refused:
        photos.clean(data)
    assert refused.value.code == code


def test_a_gif_or_bmp_that_decodes_is_refused_as_unsupported():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    with pytest.raises(photos.PhotoError) as refused:
        photos.clean(out.getvalue())
    assert refused.value.code == "unsupported_photo"


def test_a_truncated_jpeg_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (1, 2, 3)).save(out, "JPEG")
    with pytest.raises(photos.PhotoError):
        photos.clean(out.getvalue()[:300])
