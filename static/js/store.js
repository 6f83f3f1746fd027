// Homing store app: camera scanning, network status, and the offline path (verify the voucher
// signature on the tablet, decide the units, queue the action, replay it when the network is
// back). Plain ES module, no build step.

const app = document.getElementById("store-app");
const cfg = app ? app.dataset : {};
const body = document.body;

// --- network status and the service worker -------------------------------------------------

function showNetwork() {
  const online = navigator.onLine;
  body.classList.toggle("offline", !online);
  const badge = document.getElementById("net-status");
  if (badge) {
    badge.textContent = online ? badge.dataset.online : badge.dataset.offline;
    badge.className = "badge " + (online ? "ok" : "bad");
  }
}
window.addEventListener("online", () => { showNetwork(); replayQueue(); syncExpected(); });
window.addEventListener("offline", showNetwork);
showNetwork();

if ("serviceWorker" in navigator && cfg.swUrl) {
  navigator.serviceWorker.register(cfg.swUrl, { scope: "/store/" }).catch(() => undefined);
}

// --- a tiny IndexedDB store: the queue of offline actions and the synced data --------------

function idb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("homing-store", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("queue", { keyPath: "id" });
      open.result.createObjectStore("kv");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function tx(storeName, mode, fn) {
  const db = await idb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(storeName, mode);
    const result = fn(t.objectStore(storeName));
    t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

const kvGet = (key) => tx("kv", "readonly", (s) => s.get(key));
const kvPut = (key, value) => tx("kv", "readwrite", (s) => s.put(value, key));
const queueAll = () => tx("queue", "readonly", (s) => s.getAll());
const queuePut = (item) => tx("queue", "readwrite", (s) => s.put(item));
const queueDelete = (id) => tx("queue", "readwrite", (s) => s.delete(id));

// --- expected vouchers and keys, synced while online ----------------------------------------

async function syncExpected() {
  if (!navigator.onLine || !cfg.syncUrl || !cfg.clerkId) return;
  try {
    const response = await fetch(cfg.syncUrl, { credentials: "same-origin" });
    if (response.ok && response.headers.get("content-type")?.includes("json")) {
      await kvPut("sync", await response.json());
      body.dataset.synced = "yes";
    }
  } catch (_) { /* offline meanwhile: keep the last copy */ }
}

// --- verifying a voucher on the tablet (Ed25519 via WebCrypto) -------------------------------

const b64url = (text) => {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
};
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ".slice(0, 29);

function normaliseCode(text) {
  const code = text.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== 10 || [...code].some((c) => !ALPHABET.includes(c))) return null;
  const total = [...code.slice(0, 9)].reduce((sum, c, i) => sum + (i + 1) * ALPHABET.indexOf(c), 0);
  return ALPHABET[total % 29] === code[9] ? code : null;
}

async function verifyOffline(text, data) {
  // Returns {code} for a genuine, unexpired voucher; {error} otherwise.
  const trimmed = text.trim();
  if (!trimmed.toUpperCase().startsWith("HV1.")) {
    const code = normaliseCode(trimmed);
    return code ? { code } : { error: cfg.msgInvalid };
  }
  const parts = trimmed.split(".");
  if (parts.length !== 3) return { error: cfg.msgInvalid };
  try {
    const payload = b64url(parts[1]);
    const claims = JSON.parse(new TextDecoder().decode(payload));
    const jwk = (data.keys || []).find((k) => k.kid === String(claims.k));
    if (!jwk) return { error: cfg.msgInvalid };
    const key = await crypto.subtle.importKey("raw", b64url(jwk.x), { name: "Ed25519" }, false, ["verify"]);
    const signed = new TextEncoder().encode("HV1." + new TextDecoder().decode(payload));
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, b64url(parts[2]), signed);
    if (!ok) return { error: cfg.msgInvalid };
    if (claims.e * 1000 <= Date.now()) return { error: cfg.msgExpired };
    return { code: claims.c };
  } catch (_) {
    return { error: cfg.msgInvalid };
  }
}

// --- the offline intake ------------------------------------------------------------------------

async function startOfflineIntake(text) {
  const data = (await kvGet("sync")) || { keys: [], vouchers: [] };
  const panel = document.getElementById("offline-intake");
  const message = document.getElementById("offline-message");
  if (!panel) return;
  panel.hidden = false;
  message.textContent = "";
  const form = document.getElementById("offline-form");
  const units = form.querySelector("[data-units]");
  units.replaceChildren();
  form.querySelector("button").hidden = false;
  const verdict = await verifyOffline(text, data);
  if (verdict.error) { message.textContent = verdict.error; form.querySelector("button").hidden = true; return; }
  const voucher = (data.vouchers || []).find((v) => v.code === verdict.code);
  if (!voucher) { message.textContent = cfg.msgUnknown; form.querySelector("button").hidden = true; return; }
  panel.querySelector("[data-rma]").textContent = voucher.rma;
  const template = document.getElementById("offline-unit-template");
  for (const unit of voucher.units) {
    const node = template.content.cloneNode(true);
    node.querySelector("[data-title]").textContent = unit.title || unit.sku;
    node.querySelector("[data-reason]").textContent = unit.reason_label || unit.reason;
    for (const input of node.querySelectorAll("[data-field]")) {
      input.name = `u-${unit.unit_id}-${input.dataset.field}`;
    }
    node.querySelector("fieldset").dataset.unit = unit.unit_id;
    units.append(node);
  }
  form.onsubmit = async (event) => {
    event.preventDefault();
    const decided = {};
    for (const fieldset of units.querySelectorAll("fieldset[data-unit]")) {
      const id = fieldset.dataset.unit;
      const value = (name) => form.elements[`u-${id}-${name}`]?.value || "";
      const choice = fieldset.querySelector(`input[name="u-${id}-decision"]:checked`);
      if (!choice) { message.textContent = cfg.msgDecide; return; }
      decided[id] = choice.value === "accept"
        ? { reception: "received", decision: "accept", grade: value("grade"), disposition: value("disposition") }
        : { reception: "received", decision: "reject", reject_reason: value("reject_reason") || "other", notes: "recorded offline" };
    }
    const id = crypto.randomUUID();
    await queuePut({ id, idempotency_key: id, voucher: text.trim(), units: decided, rma: voucher.rma,
                     clerk_id: cfg.clerkId, recorded_at: new Date().toISOString(), state: "queued" });
    panel.hidden = true;
    showQueue(cfg.msgQueued);
  };
}

// --- the queue: shown on the page, replayed when the network is back ---------------------------

async function showQueue(note) {
  // Always redrawn from the queue itself, so a replayed (deleted) action leaves the list.
  const items = await queueAll().catch(() => []);
  const waiting = items.filter((i) => i.state === "queued");
  const badge = document.getElementById("queue-status");
  const waitingText = (n) => (badge?.dataset.template || "{n}").replace("{n}", n);
  if (badge) {
    badge.hidden = waiting.length === 0;
    badge.textContent = waitingText(waiting.length);
  }
  const panel = document.getElementById("queue-panel");
  const list = document.getElementById("queue-items");
  if (!panel || !list) return;
  const rows = items.map((i) => li(
    `${i.rma} · ${i.state === "queued" ? waitingText(1) : cfg.msgConflict + ": " + (i.error || "")}`,
    i.state));
  if (note) rows.unshift(li(note));
  if (rows.length === 0) rows.push(li(cfg.msgEmpty || "", "empty"));
  list.replaceChildren(...rows);
  // The scan screen shows the panel only while it has something to say; Today always does.
  if (panel.dataset.always !== "yes") panel.hidden = items.length === 0 && !note;
}

function li(text, state) {
  const item = document.createElement("li");
  item.textContent = text;
  if (state) item.dataset.state = state;
  if (state === "empty") item.className = "muted";
  return item;
}

let replaying = false;
async function replayQueue() {
  if (replaying || !navigator.onLine || !cfg.offlineUrl) return;
  replaying = true;
  try {
    for (const item of await queueAll()) {
      if (item.state !== "queued") continue;
      let response;
      try {
        response = await fetch(cfg.offlineUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ idempotency_key: item.idempotency_key, voucher: item.voucher,
                                 units: item.units, clerk_id: item.clerk_id, recorded_at: item.recorded_at }),
        });
      } catch (_) { break; } // still offline: try again on the next 'online'
      if (response.ok) {
        await queueDelete(item.id);
      } else if (response.status >= 400 && response.status < 500) {
        const problem = await response.json().catch(() => ({}));
        await queuePut({ ...item, state: "conflict", error: problem.detail || problem.title || response.statusText });
      } else {
        break; // the hub is struggling: keep the action, retry later
      }
    }
  } finally {
    replaying = false;
    showQueue();
  }
}

// --- scanning: the camera (native BarcodeDetector or the vendored zxing-wasm ponyfill) ---------

async function barcodeDetector() {
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
    if (formats.includes("qr_code")) return new window.BarcodeDetector({ formats: ["qr_code"] });
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
  return new api.BarcodeDetector({ formats: ["qr_code"] });
}

// A camera that started by itself ignores the code it sent last: the same voucher still in
// view (refused, or already taken) would otherwise be sent again on every scan screen.
async function startCamera(ignore = "") {
  const video = document.getElementById("camera");
  const hint = document.getElementById("camera-hint");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    video.srcObject = stream;
    await video.play();
    const detector = await barcodeDetector();
    body.dataset.scanner = "ready";
    const tick = async () => {
      if (video.readyState >= 2) {
        const found = (await detector.detect(video).catch(() => []))
          .filter((code) => code.rawValue !== ignore);
        if (found.length) {
          stream.getTracks().forEach((t) => t.stop());
          return handleScanned(found[0].rawValue);
        }
      }
      setTimeout(tick, 150);
    };
    tick();
  } catch (error) {
    if (hint) hint.textContent = String(error.message || error);
  }
}

function handleScanned(text) {
  if (!navigator.onLine) return startOfflineIntake(text);
  const form = document.getElementById("code-form");
  form.elements.code.value = text;
  sessionStorage.setItem("homing-last-scan", text);
  form.submit();
}

// The camera stays on between returns: once started on this tablet it starts by itself on
// every scan screen until the clerk signs out (the flag lives in this tab's session only).
const startButton = document.getElementById("start-camera");
if (startButton) {
  startButton.addEventListener("click", () => { sessionStorage.setItem("homing-camera", "on"); startCamera(); });
  if (sessionStorage.getItem("homing-camera") === "on") {
    startCamera(sessionStorage.getItem("homing-last-scan") || "");
  }
}
const codeForm = document.getElementById("code-form");
if (codeForm) {
  codeForm.addEventListener("submit", (event) => {
    if (!navigator.onLine) { event.preventDefault(); startOfflineIntake(codeForm.elements.code.value); }
  });
}

syncExpected();
replayQueue();
showQueue();
window.homingStore = { replayQueue, syncExpected, startOfflineIntake, queueAll };
document.querySelectorAll("form[action$='/store/logout']").forEach((form) =>
  form.addEventListener("submit", () => sessionStorage.removeItem("homing-camera")));
