"""Shared steps of the clerk, HQ and finance journeys: an Amazon order of the journey's own
(so no two journeys share units), its returns routed to the demo tablet's store, the counter
reached through the REST API where the story is not about the counter, a fake camera that
films a real QR code, and HQ's sign-in."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

TABLET_LANDSCAPE = (1024, 768)
TABLET_PORTRAIT = (820, 1180)
DESKTOP = (1440, 900)
ACCEPT_A = {"reception": "received", "decision": "accept", "grade": "A",
            "disposition": "restock"}


def new_order(stack, lines: list[dict] | None = None) -> dict:
    """An Amazon order delivered three days ago to postal code 10001, Homing's and (through
    the sandbox's order source) Amazon's. Item ids are unique to the order."""
    order_id = f"114-{secrets.randbelow(10**7):07d}-{secrets.randbelow(10**7):07d}"
    stem = f"{secrets.randbelow(10**9):09d}"
    delivered = datetime.now(UTC) - timedelta(days=3)
    lines = lines or [
        {"item_id": f"7{stem}1001", "sku": "HP-NC-700", "title": "Noise-cancelling headphones",
         "category": "electronics", "size_class": "small", "quantity": 2,
         "item_price": "299.98", "item_tax": "26.62"},
        {"item_id": f"7{stem}1002", "sku": "TEE-ORG-M", "title": "Organic cotton T-shirt (M)",
         "category": "apparel", "size_class": "small", "quantity": 1, "item_price": "25.00",
         "item_tax": "2.22"},
    ]
    payload = {"channel": "amazon-mfn", "order_id": order_id, "marketplace_id": "ATVPDKIKX0DER",
               "seller_id": "A1DEMOSELLER", "currency": "USD", "status": "delivered",
               "purchased_at": (delivered - timedelta(days=2)).isoformat(),
               "delivered_at": delivered.isoformat(),
               "buyer": {"email": f"shopper-{stem}@example.com", "name": "Jo Journey",
                         "postal_code": "10001", "country": "US"}, "lines": lines}
    response = stack.api("POST", "/api/v1/orders", json=payload)
    assert response.status_code in (200, 201), response.text
    return payload


def issue_return(stack, order: dict, item: int = 0, quantity: int = 1,
                 reason: str = "changed_mind.better_price") -> dict:
    """A return of ``quantity`` units of the order's line ``item``, routed to the demo
    tablet's store; answers the API's RMA (number, voucher token and short code)."""
    line = order["lines"][item]
    response = stack.api("POST", "/api/v1/returns", json={
        "channel": "amazon-mfn", "order_id": order["order_id"], "postal_code": "10001",
        "store_code": stack.seed["store_code"], "locale": "en",
        "lines": [{"item_id": line["item_id"], "quantity": quantity, "reason": reason}]})
    assert response.status_code == 201, response.text
    return response.json()


def check_in_over_the_api(stack, rma: dict, decision: dict | None = None,
                          supervisor: bool = True) -> dict:
    """The counter's part done through the API (for journeys that are not the clerk's)."""
    key = stack.api_key("clerk", stack.seed["store_code"])
    opened = stack.api("POST", "/api/v1/intakes", key=key,
                       json={"voucher": rma["voucher"]["token"]})
    assert opened.status_code in (200, 201), opened.text
    intake = opened.json()
    for unit in intake["units"]:
        done = stack.api("POST", f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
                         key=key, json=decision or ACCEPT_A)
        assert done.status_code == 200, done.text
    staff, pin = stack.seed["supervisor"]
    body = {"supervisor": {"staff_number": staff, "pin": pin}} if supervisor else {}
    completed = stack.api("POST", f"/api/v1/intakes/{intake['id']}/complete", key=key,
                          json=body)
    assert completed.status_code == 200, completed.text
    return completed.json()


def qr_video(text: str, path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    """A short Y4M video of the QR code of ``text`` (Pillow; qrcode draws the code): what
    Chromium's fake camera (--use-file-for-fake-video-capture) shows the page."""
    import qrcode

    width, height = size
    side = min(width, height) - 60
    code = qrcode.make(text, border=4).convert("L").resize((side, side), Image.NEAREST)
    frame = Image.new("L", size, 255)
    frame.paste(code, ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def camera_browser(browser, video: Path):
    """A second Chromium whose camera films ``video`` (the session's browser has no camera);
    the caller closes it."""
    return browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])


def tablet_context(chromium, stack, viewport=TABLET_LANDSCAPE, locale: str = "en-US"):
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                   locale=locale, timezone_id="America/New_York",
                                   has_touch=True)
    context.set_default_timeout(20_000)
    context.grant_permissions(["camera"], origin=stack.url)
    return context


def enrol_and_sign_in(page, stack, who: str = "clerk") -> None:
    """Open the enrolment link HQ handed out, then sign in with a staff number and PIN."""
    page.goto(stack.url + stack.seed["enroll_path"])
    page.click("button[type=submit]")
    page.wait_for_url("**/store/login")
    sign_in_at_the_counter(page, stack, who)


def sign_in_at_the_counter(page, stack, who: str = "clerk") -> None:
    staff, pin = stack.seed[who]
    page.fill("#staff_number", staff)
    page.fill("#pin", pin)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.url}/store/")


def sign_in_to_hq(page, stack) -> None:
    email, password = stack.seed["hq"]
    page.goto(f"{stack.url}/hq/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.url}/hq/")


def until(page, expression: str, timeout: float = 15) -> None:
    """Wait until ``expression`` is true in the page. Polled from here with evaluate(), not
    with wait_for_function: the app's Content-Security-Policy forbids the eval() that
    Playwright's in-page polling needs (and rightly so)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(0.2)


def cut_off(page, selector: str = ".choice") -> list[str]:
    """The labels of elements whose text does not fit them or that leave the screen."""
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter((e) => e.offsetParent !== null)
        .filter((e) => e.scrollWidth > e.clientWidth + 1
                       || e.getBoundingClientRect().right > window.innerWidth + 1)
        .map((e) => e.innerText.trim())""", selector)


def photo(path: Path) -> Path:
    """A camera-sized photo of the unit (the app resizes it and strips its EXIF)."""
    Image.new("RGB", (2400, 1800), (40, 90, 160)).save(path, "JPEG")
    return path
