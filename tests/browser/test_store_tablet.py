"""The clerk's day on a 10-inch tablet, in the real demo driven by Debian's Chromium: enrol,
sign in with a PIN, scan a real QR from a fake camera stream, grade with a photo, type a code,
get a supervisor's approval, and check a return in while the network is down — the queued
action syncs when it comes back and the refund intent exists exactly once."""

from __future__ import annotations

import json
import sqlite3
import urllib.request

import numpy as np
import pytest
import qrcode
from PIL import Image

from hub.demo.seed import DEMO_API_KEY, DEMO_DEVICE_TOKEN
from hub.stores.geo import resolve_postal_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium, wait_for_js

ORDER = "114-3941689-8772232"
TABLET = {"width": 1280, "height": 800}  # a 10-inch tablet in landscape


def _api(url: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {DEMO_API_KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _issue(url: str, store: str, item_id: str, reason: str) -> dict:
    return _api(url, "/api/v1/returns", {
        "channel": "amazon-mfn", "order_id": ORDER, "postal_code": "10001", "store_code": store,
        "lines": [{"item_id": item_id, "quantity": 1, "reason": reason}]})


def _y4m_with_qr(text: str, path) -> None:
    """A one-frame Y4M video of the QR code: Chromium plays it as the fake camera."""
    width, height = 640, 480
    qr = qrcode.make(text, border=4).convert("L").resize((420, 420), Image.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(qr, ((width - 420) // 2, (height - 420) // 2))
    luma = np.asarray(frame, dtype=np.uint8).tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def _photo(path) -> None:
    Image.new("RGB", (2400, 1800), (180, 40, 40)).save(path, "JPEG")


def _refunds_for(instance, number: str) -> int:
    with sqlite3.connect(instance / "homing.sqlite") as db:
        return db.execute("SELECT count(*) FROM refunds JOIN return_authorizations r "
                          "ON r.id = refunds.rma_id WHERE r.number = ?", (number,)).fetchone()[0]


def _clerk_may_approve_up_to(url: str, usd: str) -> None:
    """The stories here are about the tablet, not approval tiers (the default asks a
    supervisor above USD 50): clerks approve up to ``usd`` alone in this demo."""
    document = _api(url, "/api/v1/policy")["document"]
    document["approvals"] = {**document["approvals"], "amount": {"USD": usd}}
    request = urllib.request.Request(
        url + "/api/v1/policy", method="PUT",
        data=json.dumps({"document": document, "note": "test: clerk limit"}).encode(),
        headers={"Authorization": f"Bearer {DEMO_API_KEY}", "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture(scope="module")
def returns(demo_url):
    _clerk_may_approve_up_to(demo_url, "200.00")
    lat, lon = resolve_postal_code("10001", "US")
    store = _api(demo_url, f"/api/v1/routing?lat={lat}&lon={lon}&category=electronics&limit=1")
    code = store["stores"][0]["code"]
    return {
        "camera": _issue(demo_url, code, "40000000000001", "changed_mind.better_price"),
        "typed": _issue(demo_url, code, "40000000000002", "fit.too_small"),
        "offline": _issue(demo_url, code, "40000000000002", "fit.too_large"),
    }


@pytest.fixture(scope="module")
def tablet(demo_url, returns, tmp_path_factory):
    """A browser context like an enrolled tablet whose camera sees the first voucher's QR."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    video = tmp_path_factory.mktemp("camera") / "qr.y4m"
    _y4m_with_qr(returns["camera"]["voucher"]["token"], video)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        context = browser.new_context(viewport=TABLET, locale="en-US", has_touch=True)
        context.grant_permissions(["camera"], origin=demo_url)
        page = context.new_page()
        page.goto(f"{demo_url}/store/enroll?token={DEMO_DEVICE_TOKEN}")
        page.click("button[type=submit]")
        page.wait_for_url("**/store/login")
        page.fill("#staff_number", "1001")
        page.fill("#pin", "1234")
        page.click("button[type=submit]")
        page.wait_for_url(f"{demo_url}/store/")
        yield context, page
        browser.close()


@pytest.mark.browser
def test_camera_scan_grade_with_photo_and_complete(demo_url, demo_instance, returns, tablet,
                                                   tmp_path):
    _context, page = tablet
    page.click("#start-camera")  # the fake camera shows the real QR; zxing-wasm reads it
    page.wait_for_url("**/store/intakes/**", timeout=30_000)
    assert "Noise-cancelling headphones" in page.inner_text("main")
    page.click("text=Noise-cancelling headphones")
    page.wait_for_url("**/units/**")
    photo = tmp_path / "unit.jpg"
    _photo(photo)
    page.set_input_files("#photo", str(photo))  # submits itself
    page.wait_for_selector(".photos img")
    assert page.locator(".photos img").evaluate("img => img.naturalWidth") == 1600
    page.click("label.choice:has(input[name=check-powers_on][value=no])")
    page.click("label.choice:has(input[name=grade][value=C])")
    page.click("label.choice:has(input[name=disposition][value=open_box])")
    page.click("label.choice:has(input[name=decision][value=accept])")
    # The live refund follows the grade: 80 % of 163.30.
    wait_for_js(page, "document.querySelector('#refund-preview').innerText.includes('$')")
    assert "$130.64" in page.inner_text("#refund-preview")
    page.click("text=Save this unit")
    page.wait_for_selector("text=Complete return")
    page.click("text=Complete return")
    page.wait_for_url("**/receipt")
    assert "Receipt RC-" in page.inner_text("main") and "$130.64" in page.inner_text("main")
    assert _refunds_for(demo_instance, returns["camera"]["number"]) == 1


@pytest.mark.browser
def test_typed_code_and_supervisor_approval(demo_url, demo_instance, returns, tablet):
    _context, page = tablet
    page.goto(f"{demo_url}/store/")
    page.fill("#code", returns["typed"]["voucher"]["short_code"].replace("-", "").lower())
    page.click("text=Find return")
    page.wait_for_url("**/store/intakes/**")
    page.click("text=Organic cotton T-shirt")
    page.click("label.choice:has(input[name=grade][value=D])")
    page.click("label.choice:has(input[name=disposition][value=liquidate])")
    page.click("label.choice:has(input[name=decision][value=accept])")
    page.wait_for_selector("#refund-preview .notice")  # "A supervisor will need to approve"
    page.click("text=Save this unit")
    page.wait_for_selector("text=Supervisor approval")
    page.fill("#supervisor_staff", "2001")
    page.fill("#supervisor_pin", "0000")
    page.click("text=Approve and complete")
    assert "PIN is wrong" in page.inner_text("main [role=alert]")
    page.fill("#supervisor_staff", "2001")
    page.fill("#supervisor_pin", "9876")
    page.click("text=Approve and complete")
    page.wait_for_url("**/receipt")
    with sqlite3.connect(demo_instance / "homing.sqlite") as db:
        approved_by, status = db.execute(
            "SELECT approved_by_id, i.status FROM intakes i JOIN return_authorizations r "
            "ON r.id = i.rma_id WHERE r.number = ?", (returns["typed"]["number"],)).fetchone()
    assert approved_by is not None and status == "completed"


@pytest.mark.browser
def test_offline_intake_syncs_once_when_the_network_returns(demo_url, demo_instance, returns,
                                                             tablet):
    context, page = tablet
    page.goto(f"{demo_url}/store/")
    # Installable: manifest, icons, and a service worker that controls the page.
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    wait_for_js(page, "navigator.serviceWorker.controller !== null")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href)"
                             ".then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["icons"]
    page.wait_for_selector("body[data-synced=yes]")

    context.set_offline(True)
    page.reload()  # served by the service worker from its cache
    page.wait_for_selector("#net-status.bad")
    assert page.locator(".offline-banner").is_visible()
    page.fill("#code", returns["offline"]["voucher"]["short_code"])
    page.click("text=Find return")
    page.wait_for_selector("#offline-intake:not([hidden])")
    page.click("#offline-intake label.choice:has(input[value=accept])")
    page.click("text=Accept and save on this tablet")
    page.wait_for_selector("#queue-status:not([hidden])")
    assert "1 waiting to send" in page.inner_text("#queue-status")
    assert _refunds_for(demo_instance, returns["offline"]["number"]) == 0

    context.set_offline(False)  # the 'online' event replays the queue
    page.wait_for_selector("#queue-status[hidden]", state="attached", timeout=30_000)
    status = _api(demo_url, f"/api/v1/returns/{returns['offline']['number']}")
    assert status["status"] == "dropped_off"
    assert _refunds_for(demo_instance, returns["offline"]["number"]) == 1
    page.evaluate("window.homingStore.replayQueue()")  # a second replay changes nothing
    assert _refunds_for(demo_instance, returns["offline"]["number"]) == 1


def test_qr_video_frame_decodes(tmp_path):
    """The fake camera's frame really holds a readable QR (so a failure above is the app's)."""
    import zxingcpp

    path = tmp_path / "qr.y4m"
    _y4m_with_qr("HV1.test", path)
    raw = path.read_bytes()
    start = raw.index(b"FRAME\n") + len(b"FRAME\n")
    luma = np.frombuffer(raw[start:start + 640 * 480], dtype=np.uint8).reshape(480, 640)
    [found] = zxingcpp.read_barcodes(Image.fromarray(luma))
    assert found.text == "HV1.test"
