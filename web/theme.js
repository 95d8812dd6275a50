// Applies the saved colour theme before the first paint (light, dark, or the system's when unset).
try {
  const t = localStorage.getItem('vramcalc-theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch { /* storage blocked: follow the system */ }
// The iframe embed mode (?embed=1) lays the page out compactly from the first paint.
if (/[?&]embed=1(&|$)/.test(location.search)) document.documentElement.classList.add('embed');
