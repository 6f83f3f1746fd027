"""The Content-Security-Policy in a real browser (Debian's Chromium, the real demo): the
shopper, store and HQ pages load and work without a single CSP violation: htmx swaps, the
inline handlers of our templates, the store's service worker, and the vendored zxing-wasm
decoder compiling its WebAssembly and reading a QR code. Part of the hostile-input suite
(tests/security); it lives here because it must run before the journeys, whose Playwright
stays open for the whole session."""

from __future__ import annotations

import base64
import io

import pytest
import qrcode

from hub.demo.seed import DEMO_DEVICE_TOKEN, DEMO_HQ_ADMIN

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
  e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || "")));
"""


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.console_csp = console
    yield page
    context.close()


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []") + page.console_csp


def test_shopper_pages_keep_the_policy(page, demo_url):
    response = page.goto(f"{demo_url}/return/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#order_id", "114-3941689-8772232")
    page.fill("#proof", "10001")
    page.click("button[type=submit]")
    page.wait_for_url("**/return/items")
    headphones = page.locator("fieldset").first
    headphones.locator("select[name^=qty]").select_option("1")
    headphones.locator("select[name^=reason]").select_option("fit.too_small")
    # The live quote is an htmx swap.
    page.wait_for_function("() => document.querySelector('#quote').innerText.includes('$')")
    page.click("#locate")  # the inline script's handler (allowed by hash) runs
    with page.expect_navigation():
        page.select_option("#lang", "de")  # onchange="this.form.submit()" (allowed by hash)
    assert page.evaluate("document.documentElement.lang") == "de"
    assert _violations(page) == []


def test_store_pages_and_the_zxing_wasm_decoder_keep_the_policy(page, demo_url):
    page.goto(f"{demo_url}/store/enroll?token={DEMO_DEVICE_TOKEN}")
    page.click("button[type=submit]")
    page.fill("#staff_number", "1001")
    page.fill("#pin", "1234")
    page.click("button[type=submit]")
    page.wait_for_url("**/store/")
    # The ponyfill the tablet loads when the browser has no BarcodeDetector, as store.js
    # loads it: a script from our origin, then its WebAssembly from our origin.
    png = io.BytesIO()
    qrcode.make("HOMING-CSP-CHECK").save(png)
    text = page.evaluate("""async (src) => {
      const app = document.getElementById("store-app").dataset;
      await new Promise((ok, fail) => { const s = document.createElement("script");
        s.src = app.ponyfillUrl; s.onload = ok; s.onerror = fail; document.head.append(s); });
      const api = window.BarcodeDetectionAPI;
      api.prepareZXingModule({ overrides: { locateFile: (p, prefix) =>
        p.endsWith(".wasm") ? app.wasmUrl : prefix + p } });
      const image = new Image(); image.src = src; await image.decode();
      const found = await new api.BarcodeDetector({ formats: ["qr_code"] }).detect(image);
      return found.length ? found[0].rawValue : null;
    }""", "data:image/png;base64," + base64.b64encode(png.getvalue()).decode())
    assert text == "HOMING-CSP-CHECK"
    page.goto(f"{demo_url}/store/today")
    page.wait_for_timeout(500)  # the service worker registers
    assert _violations(page) == []


def test_hq_pages_keep_the_policy_and_refuse_framing(page, demo_url):
    page.goto(f"{demo_url}/hq/")
    page.fill("#email", DEMO_HQ_ADMIN[0])
    page.fill("#password", DEMO_HQ_ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/hq/**")
    page.click("button[value='30d']")  # htmx swaps the figures
    page.wait_for_timeout(800)
    for path in ("/hq/queues", "/hq/audit", "/hq/admin/stores"):
        page.goto(demo_url + path)
    assert _violations(page) == []
    # Framed by another page (the approve/replay/revoke buttons): the browser refuses.
    page.goto("about:blank")
    page.set_content(f'<iframe id="f" src="{demo_url}/hq/queues"></iframe>')
    page.wait_for_timeout(1500)
    [frame] = [f for f in page.frames if f != page.main_frame]
    assert not frame.url.startswith(demo_url)  # Chromium's error page instead
    assert frame.locator("form").count() == 0
