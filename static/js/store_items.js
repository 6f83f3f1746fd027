// Homing store app: the item's barcode on the unit screen. The same camera as the voucher scan,
// reading product barcodes (native BarcodeDetector, else the vendored zxing-wasm ponyfill); a
// read fills the item form and htmx sends it. The camera keeps running for the next scan.

const FORMATS = ["ean_13", "ean_8", "upc_a", "upc_e", "code_128"];
const cfg = document.getElementById("store-app")?.dataset || {};

async function itemDetector() {
  if ("BarcodeDetector" in window) {
    const supported = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
    const formats = FORMATS.filter((f) => supported.includes(f));
    if (formats.includes("ean_13")) return new window.BarcodeDetector({ formats });
  }
  if (!window.BarcodeDetectionAPI) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = cfg.ponyfillUrl;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }
  const api = window.BarcodeDetectionAPI;
  api.prepareZXingModule({ overrides: { locateFile: (path, prefix) =>
    path.endsWith(".wasm") ? cfg.wasmUrl : prefix + path } });
  return new api.BarcodeDetector({ formats: FORMATS });
}

let lastRead = "";
let lastAt = 0;

function submitRead(found) {
  // The same barcode held in front of the camera is sent once, not ten times a second.
  const now = Date.now();
  if (found.rawValue === lastRead && now - lastAt < 5000) return;
  lastRead = found.rawValue;
  lastAt = now;
  const form = document.getElementById("item-scan-form");
  if (!form) return;
  form.elements.barcode.value = found.rawValue;
  form.elements.format.value = found.format || "typed";
  document.body.dataset.itemRead = found.rawValue;
  form.requestSubmit();
}

async function startItemCamera() {
  const video = document.getElementById("item-camera");
  const hint = document.getElementById("item-camera-hint");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    video.hidden = false;
    document.getElementById("item-start-camera").hidden = true;  // it keeps running
    video.srcObject = stream;
    await video.play();
    const detector = await itemDetector();
    document.body.dataset.itemScanner = "ready";
    const tick = async () => {
      if (!document.body.contains(video)) { stream.getTracks().forEach((t) => t.stop()); return; }
      if (video.readyState >= 2) {
        const found = await detector.detect(video).catch(() => []);
        if (found.length) submitRead(found[0]);
      }
      setTimeout(tick, 200);
    };
    tick();
  } catch (error) {
    if (hint) hint.textContent = String(error.message || error);
  }
}

document.getElementById("item-start-camera")?.addEventListener("click", startItemCamera);

// A refused scan, PIN or serial answers 4xx with the item card that says why: show it (htmx
// leaves error answers unswapped by default).
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (event.detail.target?.id === "item-check" && status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
