// Stages the static site: the page (web/), the wasm module, and presets stripped to what the page
// reads. Parameter counts are computed here by the core itself (the wasm module under Node), so
// the page can show them in the model picker without running 68 estimates at start-up.
//
//   node scripts/build_web.mjs [wasm-dir] [out-dir]     (defaults: build/wasm/wasm build/site)

import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeServiceWorker } from './build_sw.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = resolve(process.argv[2] ?? join(root, 'build', 'wasm', 'wasm'));
const out = resolve(process.argv[3] ?? join(root, 'build', 'site'));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'presets'), { recursive: true });
for (const name of readdirSync(join(root, 'web'))) {
  // Everything the pages load (the Accuracy page reads its accuracy-data.json); not web/package.json,
  // which only tells Node that web/*.js are ES modules.
  if (/\.(html|css|js|mjs|svg|png|d\.ts|webmanifest|txt|json)$/.test(name) && name !== 'package.json') {
    copyFileSync(join(root, 'web', name), join(out, name));
  }
}
cpSync(join(root, 'web', 'icons'), join(out, 'icons'), { recursive: true });  // app icons (scripts/make_icons.mjs)
// The embedding demo (a blog post with <vram-calculator> widgets and an iframe); its README stays in the repo.
cpSync(join(root, 'web', 'examples'), join(out, 'examples'), { recursive: true, filter: (src) => !src.endsWith('.md') });
for (const name of ['vramcalc.js', 'vramcalc.wasm']) copyFileSync(join(wasmDir, name), join(out, name));

const require = createRequire(import.meta.url);
const wasmModule = await require(join(wasmDir, 'vramcalc.js'))({ wasmBinary: readFileSync(join(wasmDir, 'vramcalc.wasm')) });
const session = new wasmModule.Session();

/// The family traits the core reads off a preset's geometry (vram::ModelTraitNames).
function traitsOf(m) {
  const traits = JSON.parse(wasmModule.Session.traits(JSON.stringify(m.config)));
  if (!Array.isArray(traits)) throw new Error(`preset ${m.id}: ${traits.error?.message}`);
  return traits;
}

const models = JSON.parse(readFileSync(join(root, 'presets', 'models.json'), 'utf8')).models.map((m) => {
  const r = JSON.parse(session.calculate(JSON.stringify({ model: m.id, config: m.config })));
  if (r.error) throw new Error(`preset ${m.id}: ${r.error.message}`);
  return {
    id: m.id, name: m.name, family: m.family, hf_repo: m.hf_repo, config_source: m.config_source,
    parameters: r.parameters, active_parameters: r.active_parameters,
    traits: traitsOf(m),  // hybrid, moe, ... (the core's)
    max_context: m.config.max_position_embeddings ?? m.config.n_positions ?? null,
    config: m.config,
  };
});
// Every field the core's hardware parser validates, without the long notes (the planner in the
// wasm module parses this file: engine.setHardware).
const devices = JSON.parse(readFileSync(join(root, 'presets', 'hardware.json'), 'utf8')).devices.map((d) => ({
  ...d, notes: '',
}));
writeFileSync(join(out, 'presets', 'models.json'), JSON.stringify({ schema_version: 1, models }));
writeFileSync(join(out, 'presets', 'hardware.json'), JSON.stringify({ schema_version: 1, devices }));
// Last: the service worker's version hashes every precached file (web/sw.js, scripts/build_sw.mjs).
const sw = writeServiceWorker(out);
console.log(`build_web: staged ${out} (${models.length} models, ${devices.length} devices; sw.js precaches ${sw.files.length} files, ${sw.bytes} bytes)`);
