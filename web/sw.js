// Service worker: keeps every file the calculator needs in one cache per build, and serves them from
// it, so the page loads and computes offline and never mixes files of two builds. scripts/build_sw.mjs
// fills in VERSION (a hash of the files' contents) and FILES. A new build installs into a new cache
// and waits; pwa.js offers the reload that activates it. Files not listed (the Accuracy page) go to
// the network as usual.
const VERSION = 'dev';
const FILES = [];
const CACHE = `vramcalc-${VERSION}`;

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (data) => hex(await crypto.subtle.digest('SHA-256', data));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // Revalidate with the server (no stale HTTP-cache copy; a 304 costs little), and refuse a set that
    // is not the build this worker was made for (a deploy in progress): the install fails and the
    // browser tries again on a later visit.
    const responses = await Promise.all(FILES.map((f) => fetch(new Request(f, { cache: 'no-cache' }))));
    let list = '';
    for (const [i, r] of responses.entries()) {
      if (!r.ok) throw new Error(`${FILES[i]}: HTTP ${r.status}`);
      list += `${FILES[i]} ${await sha256(await r.clone().arrayBuffer())}\n`;
    }
    if ((await sha256(new TextEncoder().encode(list))).slice(0, VERSION.length) !== VERSION) {
      throw new Error('the server holds another build');
    }
    const cache = await caches.open(CACHE);
    // A redirected response cannot answer a navigation: keep its body and headers only.
    const clean = (r) => (r.redirected ? new Response(r.body, { status: r.status, headers: r.headers }) : r);
    await Promise.all(responses.map((r, i) => cache.put(FILES[i], clean(r))));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('vramcalc-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();  // a first visit works offline without a reload
  })());
});

// pwa.js sends this when the user accepts the update; never automatic, so an open page keeps the
// files of the build it started with.
self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const scope = self.registration.scope;
  if (request.method !== 'GET' || !request.url.startsWith(scope)) return;
  // The query string is ignored: /?model=… is the page, and its state lives in the query.
  let path = new URL(request.url).pathname.slice(new URL(scope).pathname.length);
  if (path === '' || path === 'index.html') path = './';
  if (!FILES.includes(path)) return;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(path))
    .then((hit) => hit ?? fetch(request)));
});
