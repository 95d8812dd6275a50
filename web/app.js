// Placeholder page: loads the wasm core once and shows an itemized estimate.
const $ = (id) => document.getElementById(id);
const gib = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const [vram, presets] = await Promise.all([
  globalThis.createVramModule(),
  fetch('presets/models.json').then((r) => r.json()),
]);
const models = presets.models;
for (const m of models) $('model').add(new Option(`${m.name} (${m.family})`, m.id));
$('model').value = 'llama-3.1-8b';
for (const f of JSON.parse(vram.formatsJson())) $('formats').append(new Option(f.id));

function update() {
  const model = models.find((m) => m.id === $('model').value);
  const request = {
    model: model.id, config: model.config, weights: $('weights').value.trim(),
    context: Number($('context').value), batch: Number($('batch').value), runtime: $('runtime').value,
  };
  const out = JSON.parse(vram.calculateJson(JSON.stringify(request)));
  $('error').hidden = !out.error;
  if (out.error) {
    $('error').textContent = out.error.message;
    $('result').replaceChildren();
    return;
  }
  const rows = out.items.map((i) => `<tr><td>${escapeHtml(i.label)}</td><td class="num">${gib(i.bytes)}</td>` +
    `<td>${escapeHtml(i.explanation)}</td></tr>`).join('');
  $('result').innerHTML = `<p class="total" data-total-bytes="${out.bytes.total}">Total: ${gib(out.bytes.total)} ` +
    `(${(out.bytes.total / 1e9).toFixed(2)} GB)</p><table><thead><tr><th>Component</th><th>Size</th>` +
    `<th>Why</th></tr></thead><tbody>${rows}</tbody></table>`;
}
$('form').addEventListener('input', update);
$('form').addEventListener('change', update);
update();
