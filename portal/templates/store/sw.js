/* Homing store app service worker (rendered by /store/sw.js). Workbox is vendored under
   /static/vendor/workbox and never fetched from a CDN. */
importScripts("{{ url_for('static', filename='vendor/workbox/workbox-sw.js') }}");
workbox.setConfig({ modulePathPrefix: "{{ url_for('static', filename='vendor/workbox/') }}", debug: false });

const PAGES = "homing-store-pages";
const SHELL = "{{ url_for('store.scan') }}";

// The app shell: styles, scripts, icons and the QR decoder, versioned by content hash.
workbox.precaching.precacheAndRoute({{ precache|tojson }});

self.addEventListener("install", (event) => {
  // Keep a copy of the scan screen: offline, every store page falls back to it.
  event.waitUntil(caches.open(PAGES).then((cache) => cache.add(SHELL)).catch(() => undefined));
  self.skipWaiting();
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// Pages: the network first (fresh data), the last copy when the network is down.
workbox.routing.registerRoute(
  ({ request, url }) => request.mode === "navigate" && url.pathname.startsWith("/store/"),
  new workbox.strategies.NetworkFirst({ cacheName: PAGES, networkTimeoutSeconds: 5 }),
);
// The expected-returns list: also cached by the page in IndexedDB; this keeps a copy too.
workbox.routing.registerRoute(
  ({ url }) => url.pathname === "{{ url_for('store.sync') }}",
  new workbox.strategies.NetworkFirst({ cacheName: "homing-store-sync", networkTimeoutSeconds: 5 }),
);
workbox.routing.setCatchHandler(async ({ request }) => {
  if (request.mode === "navigate") {
    const shell = await caches.match(SHELL, { cacheName: PAGES });
    if (shell) return shell;
  }
  return Response.error();
});
