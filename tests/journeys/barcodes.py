"""Real EAN-13 barcodes for the fake camera, drawn here from GS1's encoding tables (Pillow
only): what an item's box shows the tablet."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

_L = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
      "0110111", "0001011")
_G = tuple(code.translate(str.maketrans("01", "10"))[::-1] for code in _L)
_R = tuple(code.translate(str.maketrans("01", "10")) for code in _L)
# The first digit is not drawn: it picks which of the left six digits use the G set.
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLG", "LGLGLG",
           "LGLGGL", "LGGLGL")


def ean13_modules(code: str) -> str:
    """The 95 modules (1 = bar) of an EAN-13 with a valid check digit."""
    assert len(code) == 13 and code.isdigit()
    left = "".join((_L if parity == "L" else _G)[int(d)]
                   for parity, d in zip(_PARITY[int(code[0])], code[1:7], strict=True))
    right = "".join(_R[int(d)] for d in code[7:])
    return "101" + left + "01010" + right + "101"


def ean13_image(code: str, module: int = 4, height: int = 220) -> Image.Image:
    modules = ean13_modules(code)
    quiet = 12 * module
    image = Image.new("L", (len(modules) * module + 2 * quiet, height + 2 * quiet), 255)
    for i, bit in enumerate(modules):
        if bit == "1":
            image.paste(0, (quiet + i * module, quiet, quiet + (i + 1) * module, quiet + height))
    return image


def ean13_video(code: str, path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    """A short Y4M video of the barcode, for --use-file-for-fake-video-capture."""
    width, height = size
    code_image = ean13_image(code)
    frame = Image.new("L", size, 255)
    frame.paste(code_image, ((width - code_image.width) // 2,
                             (height - code_image.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path
