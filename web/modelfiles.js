// Bring your own model: config.json text, dropped files (.gguf, .safetensors, config.json,
// model.safetensors.index.json) and Hugging Face repositories become a model for the core.
// Only header bytes are read: the first MiB of a file (or an HTTP Range), then exactly as much
// more as the core's parser asks for. Nothing is uploaded; the hub is contacted only when the
// user asks, with the token (if any) kept in memory by the caller.

import { EngineError } from './engine.js';

/** First read of a GGUF: most headers, vocabularies included, fit in it. */
export const FIRST_READ_BYTES = 1 << 20;
/** First read of a safetensors shard: its JSON header is usually 10-100 KB (and the first 8 bytes
 * give its exact length), so a model with 160 shards costs a few MB, not 160 MiB. */
export const FIRST_SAFETENSORS_READ_BYTES = 1 << 16;
/** Shard headers read at once (browsers open about 6 connections per host). */
const PARALLEL_READS = 6;

/** Runs `job` over `items`, `limit` at a time, keeping the order of the results. */
async function mapLimited(items, limit, job) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const firstRead = (kind) => (kind === 'safetensors' ? FIRST_SAFETENSORS_READ_BYTES : FIRST_READ_BYTES);
/** Largest header prefix ever read: the core's GgufLimits::kMaxHeaderBytes (256 MiB) is far more
 * than any real file needs; the page stops earlier so a hostile file cannot make it read GBs. */
export const MAX_HEADER_BYTES = 64 << 20;
/** config.json and index files are small; larger ones are refused before they are read. */
export const MAX_JSON_BYTES = 8 << 20;
export const DEFAULT_HUB = 'https://huggingface.co';

/** An error meant for the user: `message` says what happened and what to do. */
export class ImportError extends Error {
  constructor(message, { status = 0, needsToken = false } = {}) {
    super(message);
    this.name = 'ImportError';
    this.status = status;
    this.needsToken = needsToken;
  }
}

/** What a dropped file is, from its name. */
export function fileKind(name) {
  const n = name.toLowerCase();
  if (n.endsWith('.gguf')) return 'gguf';
  if (n.endsWith('.safetensors')) return 'safetensors';
  if (n.endsWith('.index.json')) return 'index';
  if (n.endsWith('.json')) return 'config';
  return '';
}

/**
 * Reads a header through `read(begin, end)` (a Promise of a Uint8Array of bytes [begin, end)),
 * growing the prefix until the core's parser has the whole header. `size` is the file's size
 * (0 = unknown); `first` bytes already read from the start, if any. Returns { bytes, size, probe }.
 */
export async function readHeader(engine, kind, read, size, what, first = new Uint8Array(0)) {
  let want = size > 0 ? Math.min(firstRead(kind), size) : firstRead(kind);
  let bytes = first;
  if (bytes.length && bytes.length < want) want = bytes.length;  // the file is shorter than a first read
  for (;;) {
    if (want > bytes.length) {
      const more = await read(bytes.length, want);
      const joined = new Uint8Array(bytes.length + more.length);
      joined.set(bytes);
      joined.set(more, bytes.length);
      bytes = joined;
    }
    let probe;
    try {
      probe = engine.probe(kind, bytes, size);
    } catch (error) {
      if (error instanceof EngineError) throw new ImportError(`${what}: ${error.message}`);
      throw error;
    }
    if (probe.complete) return { bytes, size, probe };
    const next = Math.max(probe.bytes_needed, 2 * want);
    if (size > 0 && bytes.length >= size) throw new ImportError(`${what}: the file ends inside its header`);
    if (next > MAX_HEADER_BYTES) {
      throw new ImportError(`${what}: the header is longer than ${MAX_HEADER_BYTES / 2 ** 20} MiB, the most this page reads`);
    }
    if (bytes.length < want) throw new ImportError(`${what}: the file ends inside its header`);
    want = size > 0 ? Math.min(next, size) : next;
  }
}

/** Reads bytes [begin, end) of a File or Blob (never more). */
export function blobReader(blob) {
  return async (begin, end) => new Uint8Array(await blob.slice(begin, Math.min(end, blob.size)).arrayBuffer());
}

async function smallText(file, what) {
  if (file.size > MAX_JSON_BYTES) {
    throw new ImportError(`${what}: ${file.name} is ${file.size} bytes; a ${what} is at most ${MAX_JSON_BYTES / 2 ** 20} MiB`);
  }
  return new TextDecoder().decode(await blobReader(file)(0, file.size));
}

/** Parses config.json text into an object, or throws an ImportError naming the problem. */
export function parseConfigText(text, what = 'config.json') {
  let config;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ImportError(`${what}: not valid JSON (${error.message})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ImportError(`${what}: must be a JSON object (a Hugging Face config.json)`);
  }
  return config;
}

const sum = (headers) => headers.reduce((n, h) => n + h.bytes.length, 0);

/** GGUF headers of one model (a single file or every part of a split one) -> ImportedModel. */
function importGguf(engine, headers, source) {
  const count = headers[0].probe.split_count;
  if (headers.length > 1 || count > 1) {
    if (headers.some((h) => h.probe.split_count !== count)) {
      throw new ImportError('gguf: these files are parts of different split models; give the parts of one model');
    }
    const have = new Set(headers.map((h) => h.probe.split_index));
    const missing = [];
    for (let i = 0; i < count; i += 1) if (!have.has(i)) missing.push(i + 1);
    if (missing.length) {
      throw new ImportError(`gguf: the model is split into ${count} files; also give part(s) ${missing.join(', ')} ` +
        `(names ending -0000N-of-${String(count).padStart(5, '0')}.gguf)`);
    }
    if (headers.length !== count) throw new ImportError(`gguf: give each of the ${count} parts once`);
  }
  return coreImport(engine, { kind: 'gguf', source }, headers);
}

function importSafetensors(engine, headers, configText, indexText, source) {
  return coreImport(engine, { kind: 'safetensors', source, config: configText, index: indexText }, headers);
}

/** The core builds the model from the header prefixes; its error becomes the user's message. */
function coreImport(engine, spec, headers) {
  try {
    return engine.importModel(spec, headers.map((h) => ({ bytes: h.bytes, size: h.size })));
  } catch (error) {
    if (error instanceof EngineError) throw new ImportError(error.message);
    throw error;
  }
}

/**
 * Files from a drop or a file picker -> { model: ImportedModel } or { config: object, text }.
 * GGUF files stand alone; safetensors shards need the config.json (and the index when sharded).
 */
export async function importFiles(engine, fileList) {
  const files = [...fileList];
  if (files.length === 0) throw new ImportError('files: nothing was dropped');
  const byKind = { gguf: [], safetensors: [], index: [], config: [], '': [] };
  for (const f of files) byKind[fileKind(f.name)].push(f);
  if (byKind[''].length) {
    throw new ImportError(`files: ${byKind[''].map((f) => f.name).join(', ')}: not a .gguf, .safetensors, config.json ` +
      'or model.safetensors.index.json file');
  }
  if (byKind.gguf.length) {
    if (files.length !== byKind.gguf.length) {
      throw new ImportError('files: a GGUF file carries its own geometry; drop it alone (or with its other split parts)');
    }
    const headers = [];
    for (const f of byKind.gguf) headers.push(await readHeader(engine, 'gguf', blobReader(f), f.size, f.name));
    const source = byKind.gguf.map((f) => f.name).sort()[0];
    return { model: importGguf(engine, headers, source), source, bytesRead: sum(headers) };
  }
  if (byKind.config.length > 1) throw new ImportError('files: give one config.json');
  const configText = byKind.config.length ? await smallText(byKind.config[0], 'config.json') : '';
  if (configText) parseConfigText(configText, byKind.config[0].name);
  if (!byKind.safetensors.length) {
    if (byKind.index.length) throw new ImportError('files: the index names safetensors shards; drop them too (only their headers are read)');
    return { config: parseConfigText(configText, byKind.config[0].name), text: configText, source: byKind.config[0].name,
      bytesRead: configText.length };
  }
  if (!configText) {
    throw new ImportError('files: safetensors hold the weights but not the architecture; drop the config.json from the same folder too');
  }
  let indexText = '';
  let shards = byKind.safetensors;
  if (byKind.index.length) {
    indexText = await smallText(byKind.index[0], 'index');
    let index;
    try {
      index = engine.probe('index', indexText);
    } catch (error) {
      throw new ImportError(`${byKind.index[0].name}: ${error.message}`);
    }
    const named = new Map(byKind.safetensors.map((f) => [f.name, f]));
    const missing = index.shards.filter((s) => !named.has(s));
    if (missing.length) throw new ImportError(`files: the index names shards that were not dropped: ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}`);
    shards = index.shards.map((s) => named.get(s));
  }
  const headers = await mapLimited(shards, PARALLEL_READS, (f) => readHeader(engine, 'safetensors', blobReader(f), f.size, f.name));
  const source = byKind.index[0]?.name ?? shards[0].name;
  return { model: importSafetensors(engine, headers, configText, indexText, source), source,
    bytesRead: sum(headers) + configText.length + indexText.length };
}

// ---------------------------------------------------------------------------------------------
// Hugging Face hub

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** A hub repository id ("org/name"), from an id or a huggingface.co URL; throws when invalid. */
export function parseRepoId(text) {
  let t = String(text).trim();
  const url = /^https?:\/\/(?:www\.)?huggingface\.co\/([^/?#]+\/[^/?#]+)/.exec(t);
  if (url) t = url[1];
  if (!REPO_ID.test(t) || t.includes('..')) {
    throw new ImportError('repository: give an id such as meta-llama/Llama-3.1-8B (owner/name: letters, digits, . _ -)');
  }
  return t;
}

/** A fetch that turns every failure into a clear ImportError. */
async function hubFetch(fetchImpl, url, { token, range, what, online }) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (range) headers.Range = `bytes=${range[0]}-${range[1] - 1}`;
  let response;
  try {
    response = await fetchImpl(url, { headers, credentials: 'omit', cache: 'no-store', redirect: 'follow' });
  } catch {
    if (online && !online()) throw new ImportError('You are offline: loading from Hugging Face needs the network. Everything else on this page works offline.');
    throw new ImportError(`Could not reach ${new URL(url).host} for ${what}: a network error, or the server did not allow this page ` +
      'to read it (CORS). Download the files and drop them here instead.');
  }
  if (response.ok) return response;
  const status = response.status;
  if (status === 401) {
    throw new ImportError(`${what}: the repository is gated or private (HTTP 401). Give a Hugging Face access token ` +
      '(kept in this tab only, sent only to the hub) and load again.', { status, needsToken: true });
  }
  if (status === 403) {
    throw new ImportError(`${what}: access denied (HTTP 403). The repository is gated: accept its licence on huggingface.co ` +
      'with your account, then load again with a token that can read it.', { status, needsToken: true });
  }
  if (status === 404) throw new ImportError(`${what}: not found (HTTP 404). Check the repository id and that the file exists.`, { status });
  if (status === 429) {
    const after = Number(response.headers.get('Retry-After'));
    throw new ImportError(`${what}: the hub is rate-limiting requests (HTTP 429)` +
      `${Number.isFinite(after) && after > 0 ? `; try again in ${Math.ceil(after)} s` : '; wait a minute and try again'}.`, { status });
  }
  if (status === 416) throw new ImportError(`${what}: the file is shorter than its header says (HTTP 416).`, { status });
  throw new ImportError(`${what}: the hub answered HTTP ${status}.`, { status });
}

/** Reads bytes [begin, end) of a hub file with a Range request. A server that ignores Range
 * (200 instead of 206) is read only as far as needed, then the download is cancelled. */
function rangeReader(fetchImpl, url, options, onBytes) {
  const read = async (begin, end) => {
    const response = await hubFetch(fetchImpl, url, { ...options, range: [begin, end] });
    if (response.status === 206) read.size ||= totalFromRange(response);
    else read.size ||= Number(response.headers.get('Content-Length')) || 0;
    const skip = response.status === 206 ? 0 : begin;
    const want = end - begin;
    const out = new Uint8Array(want);
    let got = 0;
    let seen = 0;
    const reader = response.body.getReader();
    while (got < want) {
      const { done, value } = await reader.read();
      if (done) break;
      onBytes(value.length);
      const from = Math.max(0, skip - seen);
      seen += value.length;
      if (from >= value.length) continue;
      const chunk = value.subarray(from, from + (want - got));
      out.set(chunk, got);
      got += chunk.length;
    }
    await reader.cancel().catch(() => {});
    return out.subarray(0, got);
  };
  read.size = 0;  // the file's size, once a response told it
  return read;
}

/** The file size from a 206's Content-Range ("bytes 0-1023/4096"), or 0. */
function totalFromRange(response) {
  const m = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * Loads a model from the hub: the file list, then config.json and the safetensors headers, or
 * one GGUF's header (`ggufFile`, or the only/preferred one). Returns { model } or { config, text },
 * plus { ggufFiles } listing the repository's GGUF files so the caller can offer a choice, and
 * { bytesRead }. Options: endpoint, token, revision, fetch (for tests), online().
 */
export async function loadFromHub(engine, repoText, options = {}) {
  const repo = parseRepoId(repoText);
  const endpoint = (options.endpoint ?? DEFAULT_HUB).replace(/\/+$/, '');
  const revision = encodeURIComponent(options.revision ?? 'main');
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = { token: options.token, online: options.online };
  let bytesRead = 0;
  const count = (n) => { bytesRead += n; };
  const fileUrl = (name) => `${endpoint}/${repo}/resolve/${revision}/${name.split('/').map(encodeURIComponent).join('/')}`;

  const listing = await hubFetch(fetchImpl, `${endpoint}/api/models/${repo}`, { ...base, what: repo });
  const info = await listing.json().catch(() => null);
  const names = Array.isArray(info?.siblings) ? info.siblings.map((s) => s?.rfilename).filter((n) => typeof n === 'string') : [];
  const ggufFiles = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
  const json = async (name) => {
    const r = await hubFetch(fetchImpl, fileUrl(name), { ...base, what: `${repo}/${name}` });
    const text = await r.text();
    count(text.length);
    if (text.length > MAX_JSON_BYTES) throw new ImportError(`${repo}/${name}: larger than ${MAX_JSON_BYTES / 2 ** 20} MiB`);
    return text;
  };
  const header = async (kind, name) => {
    const url = fileUrl(name);
    const what = `${repo}/${name}`;
    // The first read also tells the file's size (Content-Range), so truncation is reported.
    const read = rangeReader(fetchImpl, url, { ...base, what }, count);
    const first = await read(0, firstRead(kind));
    return readHeader(engine, kind, read, read.size, what, first);
  };

  const safetensors = names.filter((n) => n.endsWith('.safetensors') && !n.includes('/'));
  const wantGguf = options.ggufFile ?? '';
  if (wantGguf || (!names.includes('config.json') && ggufFiles.length)) {
    const chosen = wantGguf || preferredGguf(ggufFiles);
    if (!ggufFiles.includes(chosen)) throw new ImportError(`${repo}: has no file ${chosen}`);
    const split = /-(\d{5})-of-(\d{5})\.gguf$/i.exec(chosen);
    const parts = split
      ? Array.from({ length: Number(split[2]) }, (_, i) => chosen.replace(/-\d{5}-of-(\d{5})\.gguf$/i, `-${String(i + 1).padStart(5, '0')}-of-$1.gguf`))
      : [chosen];
    const headers = [];
    for (const part of parts) headers.push(await header('gguf', part));
    return { model: importGguf(engine, headers, `${repo}/${chosen}`), ggufFiles, bytesRead, repo };
  }
  if (!names.includes('config.json')) {
    throw new ImportError(`${repo}: no config.json and no .gguf file in the repository, so there is no architecture to read`);
  }
  const configText = await json('config.json');
  parseConfigText(configText, `${repo}/config.json`);
  if (!safetensors.length) {
    return { config: parseConfigText(configText), text: configText, ggufFiles, bytesRead, repo, source: `${repo}/config.json` };
  }
  let indexText = '';
  let shards = safetensors;
  if (names.includes('model.safetensors.index.json')) {
    indexText = await json('model.safetensors.index.json');
    try {
      shards = engine.probe('index', indexText).shards;
    } catch (error) {
      throw new ImportError(`${repo}/model.safetensors.index.json: ${error.message}`);
    }
  } else if (safetensors.length > 1) {
    shards = safetensors.includes('model.safetensors') ? ['model.safetensors'] : [safetensors[0]];
  }
  const headers = await mapLimited(shards, PARALLEL_READS, (shard) => header('safetensors', shard));
  return { model: importSafetensors(engine, headers, configText, indexText, repo), config: parseConfigText(configText),
    text: configText, ggufFiles, bytesRead, repo };
}

/** The GGUF a user most likely wants when a repository has many: Q4_K_M, else the first. */
export function preferredGguf(files) {
  const firstParts = files.filter((f) => !/-\d{5}-of-\d{5}\.gguf$/i.test(f) || /-00001-of-\d{5}\.gguf$/i.test(f));
  return firstParts.find((f) => /q4_k_m/i.test(f)) ?? firstParts[0] ?? files[0];
}
