"""Photos taken at the counter.

Unit photos are decoded and checked with Pillow, turned upright, resized, re-encoded without
EXIF (which can hold the location and the device) and written outside the database; the row
keeps the relative path and a SHA-256 of the stored bytes. A photo of a voucher is read with
zxing-cpp when the tablet's camera cannot decode it live."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 1600  # enough to see a scratch; a 12 MP camera photo shrinks ~15x
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}
# A phone photo is at most ~50 MP; a few KiB of PNG can claim far more. Pillow itself only
# warns up to twice its limit and refuses beyond, so the size in the header is checked here,
# before a single pixel is decoded.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PhotoError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def clean(data: bytes) -> tuple[bytes, int, int]:
    """The photo re-encoded as a JPEG without metadata: (bytes, width, height)."""
    if not data:
        raise PhotoError("empty_photo", "The photo is empty.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoError("unsupported_photo",
                                 f"{image.format} images are not accepted; send JPEG, PNG or WebP.")
            _refuse_huge(image)
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PhotoError("unreadable_photo", "The file is not a readable image.") from exc
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: none is written
    return out.getvalue(), upright.width, upright.height


def _refuse_huge(image: Image.Image) -> None:
    """Refuse by the dimensions the header claims (Image.open reads only the header)."""
    if image.width * image.height > MAX_PIXELS:
        raise PhotoError("photo_too_large",
                         f"The photo has {image.width}x{image.height} pixels; at most "
                         f"{MAX_PIXELS // 1_000_000} megapixels are accepted.")


def read_qr(data: bytes) -> str | None:
    """The text of the first QR code in a photo (zxing-cpp), or None if there is none."""
    import zxingcpp

    try:
        with Image.open(io.BytesIO(data)) as image:
            _refuse_huge(image)
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            PhotoError):
        return None
    return found[0].text if found else None


def store(data: bytes, photo_dir: str, now: datetime) -> dict:
    """Clean and write a photo; returns the Photo columns. Content-addressed, so the same
    photo uploaded twice (an offline replay) is one file."""
    jpeg, width, height = clean(data)
    digest = hashlib.sha256(jpeg).hexdigest()
    relative = Path(f"{now:%Y}") / f"{now:%m}" / f"{digest}.jpg"
    target = Path(photo_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(jpeg)
        partial.replace(target)  # atomic: a reader never sees half a photo
    return {"path": str(relative), "content_type": "image/jpeg", "width": width,
            "height": height, "size_bytes": len(jpeg), "sha256": digest, "taken_at": now}
