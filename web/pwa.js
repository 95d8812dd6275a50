// Installable, offline page: registers the service worker (sw.js) and, when a new build has been
// installed behind the running one, offers "Update available — Reload". Nothing here is needed for
// the calculator: without service workers (file:, blocked, private modes) it does nothing, silently.
// Not in embed mode (?embed=1): a widget inside another site should not install anything or show a
// banner; if a worker already controls the origin it still serves the embed from its cache.

const sw = navigator.serviceWorker;

function start() {
  let controlled = Boolean(sw.controller);
  // The new worker has taken over (the Reload click here or in another tab): reload so this page runs
  // on one build's files only. Not on a first visit, when the first worker merely claims the page.
  sw.addEventListener('controllerchange', () => {
    if (controlled) location.reload();
    controlled = true;
  });

  // The live region exists before its text so that screen readers announce the text.
  const banner = document.createElement('div');
  banner.className = 'pwa-update';
  banner.setAttribute('role', 'status');
  document.body.append(banner);
  let waiting = null;
  const offer = (worker) => {
    if (!sw.controller) return;  // a first install: the page already runs this build
    waiting = worker;
    if (banner.firstChild) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn';
    button.textContent = 'Reload';
    button.addEventListener('click', () => waiting.postMessage('skip-waiting'));
    banner.append('Update available — ', button);
  };
  const watch = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed') offer(worker);
  });

  sw.register(new URL('sw.js', import.meta.url)).then((reg) => {
    if (!reg) return;  // a stub that blocks workers (privacy tools, Playwright) resolves with nothing
    if (reg.waiting) offer(reg.waiting);
    watch(reg.installing);
    reg.addEventListener('updatefound', () => watch(reg.installing));
    // An installed app may stay open for days: look for a new build when it comes back into view.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') reg.update().catch(() => {});
    });
  }, () => {});  // unsupported or blocked: the page works without it
}

if (sw && /^https?:$/.test(location.protocol) && new URLSearchParams(location.search).get('embed') !== '1') {
  start();
}
