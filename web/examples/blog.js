// The demo blog's own script: sizes the vramcalc iframe from the height its embed mode posts, and
// a like button (to show the host page keeps working next to the widgets).
window.addEventListener('message', (e) => {
  const h = e.data?.type === 'vramcalc:height' ? Number(e.data.height) : NaN;
  if (!(h > 0 && h < 10000)) return;
  for (const frame of document.querySelectorAll('iframe[data-vramcalc]')) {
    if (frame.contentWindow === e.source) frame.height = String(Math.ceil(h));
  }
});

document.getElementById('like').addEventListener('click', () => {
  const n = document.getElementById('likes');
  n.textContent = String(Number(n.textContent) + 1);
});
