// Grove dashboard: hash routes (#/collections, #/points, #/query, #/calibrate, #/diagnostics,
// #/snapshots, #/metrics), each a function that renders into <main> from Grove's REST API.
import { call, text, blob, whoami, getKey, setKey, enc } from './api.js';
import { drawExplain } from './explain.js';
import { h, fmt, bytes, toast, guarded, parseJson, pointId, collectionNames, picker, choose, setChosen, storedVector } from './dom.js';
import { pageCalibrate, pageDiagnostics } from './analysis.js';

const main = document.getElementById('main');
let level = null; // 'write' | 'read' | null (unknown / not authorised)

const canWrite = () => level === 'write';
const writeOnly = (node) => (canWrite() ? node : null);

// ---- Collections ----
// Dense vectors of a collection info as [name, params] ("" for the unnamed vector).
function denseVectors(c) {
  const v = c.config.params.vectors;
  return v.size === undefined ? Object.entries(v) : [['', v]];
}

// Index build state summed over the named vectors: points in the graphs and still pending.
function buildState(c) {
  const vs = Object.values(c.grove_vectors || {});
  const indexed = vs.reduce((a, v) => a + v.indexed_points, 0);
  const pending = vs.reduce((a, v) => a + v.pending_points, 0);
  return { indexed, pending, pct: indexed + pending ? (100 * indexed) / (indexed + pending) : 100 };
}

// What collection info says about memory, as the server accounts it: per named vector
// (`grove_vectors[name].memory`) the full vectors, the graphs and the quantized codes, summed
// over the vectors; and the Matryoshka prefix stores. Nothing here is estimated.
function memoryOf(c) {
  const vs = Object.values(c.grove_vectors || {}).map((v) => v.memory || { vectors: 0, graphs: 0, codes: 0 });
  const sum = (k) => vs.reduce((a, m) => a + (m[k] || 0), 0);
  const prefixes = c.matryoshka ? c.matryoshka.memory_bytes : null;
  return { vectors: sum('vectors'), graphs: sum('graphs'), codes: sum('codes'), prefixes };
}

function memoryTotal(m) {
  return m.vectors + m.graphs + m.codes + (m.prefixes || 0);
}

function progressBar(pct, title) {
  return h('div', { class: 'bar', title }, h('span', { style: `width:${pct.toFixed(1)}%` }));
}

function progressCell(c) {
  const b = buildState(c);
  return h('td', { class: 'progress', 'data-indexed': b.indexed, 'data-pending': b.pending },
    progressBar(b.pct, `${fmt(b.indexed)} indexed, ${fmt(b.pending)} pending`),
    h('span', { class: 'muted' }, b.pending ? `${fmt(b.indexed)} indexed, ${fmt(b.pending)} pending (${b.pct.toFixed(0)} %)` : `${fmt(b.indexed)} indexed (done)`));
}

function memoryCell(c) {
  const m = memoryOf(c);
  return h('td', { class: 'memory num', 'data-vectors': m.vectors, 'data-graphs': m.graphs, 'data-codes': m.codes, 'data-prefix-bytes': m.prefixes ?? '',
    title: `vectors ${bytes(m.vectors)}, graphs ${bytes(m.graphs)}, codes ${bytes(m.codes)}${m.prefixes !== null ? `, Matryoshka prefixes ${bytes(m.prefixes)}` : ''} (reported by the server)` },
  h('div', { class: 'total-memory' }, bytes(memoryTotal(m))),
  h('div', { class: 'muted' }, `${bytes(m.vectors)} vectors, ${bytes(m.graphs)} graphs${m.codes ? `, ${bytes(m.codes)} codes` : ''}`),
  m.prefixes !== null ? h('div', { class: 'prefix-memory' }, `${bytes(m.prefixes)} prefixes`) : null);
}

function collectionRow(n, c) {
  const named = denseVectors(c);
  const idx = Object.entries(c.payload_schema).map(([f, i]) => `${f}: ${i.data_type} (${fmt(i.points)})`).join(', ') || '-';
  return h('tr', { 'data-collection': n },
    h('td', {}, h('a', { href: '#/points', on: { click: () => setChosen(n) } }, n)),
    h('td', { class: `status ${c.status}` }, c.status),
    h('td', { class: 'num' }, named.map(([k, p]) => (k ? `${k}: ${p.size}` : String(p.size))).join(', ') || '-'),
    h('td', {}, named.map(([, p]) => p.distance).join(', ') || '-'),
    h('td', { class: 'num' }, fmt(c.points_count)),
    progressCell(c),
    h('td', {}, idx),
    memoryCell(c),
    h('td', {}, c.matryoshka ? c.matryoshka.prefixes.map((p) => p.dim).join(', ') : '-'),
    h('td', {}, h('button', { type: 'button', class: 'secondary details', on: { click: () => { setChosen(n); showDetails(n, c); } } }, 'details')));
}

// The chosen collection in full: config, index state per vector, Matryoshka prefixes, memory.
function detailsCard(n, c) {
  const hc = c.config.hnsw_config;
  const q = c.config.quantization_config;
  const m = memoryOf(c);
  const kv = (pairs) => h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const vectors = h('table', { id: 'details-vectors' },
    h('tr', {}, ['vector', 'dim', 'distance', 'indexed', 'pending', 'rebuilds', 'build', 'vectors', 'graphs', 'codes', 'bytes / point'].map((t) => h('th', {}, t))),
    denseVectors(c).map(([name, p]) => {
      const g = (c.grove_vectors || {})[name] || { indexed_points: 0, pending_points: 0, rebuilds: 0 };
      const gm = g.memory || { vectors: 0, graphs: 0, codes: 0, vector_bytes_per_point: 0, code_bytes_per_point: 0 };
      const perPoint = gm.code_bytes_per_point ? `${fmt(gm.vector_bytes_per_point)} + ${fmt(gm.code_bytes_per_point)} code` : fmt(gm.vector_bytes_per_point);
      const tot = g.indexed_points + g.pending_points;
      return h('tr', { 'data-vector': name },
        h('td', {}, name || '(unnamed)'), h('td', { class: 'num' }, String(p.size)), h('td', {}, p.distance),
        h('td', { class: 'num indexed' }, fmt(g.indexed_points)), h('td', { class: 'num pending' }, fmt(g.pending_points)), h('td', { class: 'num' }, fmt(g.rebuilds)),
        h('td', {}, progressBar(tot ? (100 * g.indexed_points) / tot : 100, '')),
        h('td', { class: 'num mem-vectors' }, bytes(gm.vectors)), h('td', { class: 'num mem-graphs' }, bytes(gm.graphs)),
        h('td', { class: 'num mem-codes' }, bytes(gm.codes)), h('td', { class: 'num' }, perPoint));
    }));
  const parts = [h('h3', {}, `${n}: details`),
    kv([['status', c.status], ['points', fmt(c.points_count)], ['indexed vectors', fmt(c.indexed_vectors_count)],
      ['graph', `m = ${hc.m}, ef_construct = ${hc.ef_construct}, gamma = ${hc.gamma}, m_beta = ${hc.m_beta}`],
      ['quantization', q ? JSON.stringify(q) : 'none'],
      ['memory', `${bytes(memoryTotal(m))}: ${bytes(m.vectors)} full vectors, ${bytes(m.graphs)} graphs, ${bytes(m.codes)} quantized codes${m.prefixes !== null ? `, ${bytes(m.prefixes)} Matryoshka prefix stores and graphs` : ''} (reported by the server)`]]),
    h('h3', { style: 'margin-top:10px' }, 'Vectors and index build'), vectors];
  const mr = c.matryoshka;
  if (mr) {
    parts.push(h('h3', { style: 'margin-top:10px' }, `Matryoshka prefixes (${mr.dtype}${mr.renormalise ? ', re-normalised' : ''}${mr.pca ? `, PCA on ${fmt(mr.pca_sample)} vectors` : ''})`),
      h('table', { id: 'details-prefixes', 'data-memory-bytes': mr.memory_bytes },
        h('tr', {}, ['dim', 'bytes / vector', 'store (≈)', 'graph points', 'variance kept'].map((t) => h('th', { class: 'num' }, t))),
        mr.prefixes.map((p) => h('tr', { 'data-dim': p.dim },
          h('td', { class: 'num' }, String(p.dim)), h('td', { class: 'num' }, fmt(p.bytes_per_vector)), h('td', { class: 'num' }, bytes(p.bytes_per_vector * c.points_count)),
          h('td', { class: 'num' }, p.graph_indexed === undefined ? 'no graph' : fmt(p.graph_indexed)),
          h('td', { class: 'num' }, p.variance_kept === undefined ? '-' : `${(100 * p.variance_kept).toFixed(1)} %`)))),
      h('p', { class: 'muted' }, `prefix stores and graphs hold ${bytes(mr.memory_bytes)} (reported)`));
  }
  if ((c.grove_settings_without_effect || []).length) {
    parts.push(h('h3', { style: 'margin-top:10px' }, 'Settings without effect'), h('ul', { class: 'muted' }, c.grove_settings_without_effect.map((x) => h('li', {}, x))));
  }
  return h('div', { class: 'card', id: 'collection-details', 'data-collection': n }, ...parts);
}

function showDetails(n, c) {
  const old = document.getElementById('collection-details');
  const card = detailsCard(n, c);
  if (old) old.replaceWith(card); else document.getElementById('collections-card').after(card);
}

// Refreshes rows (and the details) of collections still indexing until they are green.
let pollGeneration = 0;
function pollIndexing(names, generation) {
  setTimeout(() => guarded(async () => {
    if (generation !== pollGeneration || main.dataset.page !== 'collections') return;
    let busy = false;
    for (const n of names) {
      const row = document.querySelector(`#collections-table tr[data-collection="${CSS.escape(n)}"]`);
      if (!row || row.querySelector('td.status').textContent === 'green') continue;
      const c = await call('GET', `/collections/${enc(n)}`);
      row.replaceWith(collectionRow(n, c));
      const d = document.getElementById('collection-details');
      if (d && d.dataset.collection === n) showDetails(n, c);
      busy = busy || c.status !== 'green';
    }
    if (busy) pollIndexing(names, generation);
  }), 1500);
}

async function pageCollections() {
  const names = await collectionNames();
  const infos = await Promise.all(names.map(async (n) => [n, await call('GET', `/collections/${enc(n)}`)]));
  const table = h('table', { id: 'collections-table' },
    h('tr', {}, ['name', 'status', 'dim', 'distance', 'points', 'index build', 'payload indexes', 'memory', 'matryoshka', ''].map((t) => h('th', { class: t === 'points' || t === 'dim' || t === 'memory' ? 'num' : '' }, t))),
    infos.map(([n, c]) => collectionRow(n, c)));
  main.replaceChildren(h('h2', {}, 'Collections'), h('div', { class: 'card', id: 'collections-card' }, names.length ? table : h('p', { class: 'muted' }, 'No collections yet.')));
  const current = choose(names);
  const info = infos.find(([n]) => n === current);
  if (info) showDetails(info[0], info[1]);
  pollGeneration += 1;
  if (infos.some(([, c]) => c.status !== 'green')) pollIndexing(names, pollGeneration);

  if (!canWrite()) return;
  const cName = h('input', { id: 'new-name', placeholder: 'name' });
  const cSize = h('input', { id: 'new-size', type: 'number', min: 1, value: 8, style: 'width:90px' });
  const cDist = h('select', { id: 'new-distance' }, ['Cosine', 'Dot', 'Euclid'].map((d) => h('option', { value: d }, d)));
  const create = h('form', { id: 'create-collection', class: 'card', on: { submit: (e) => { e.preventDefault(); guarded(async () => {
    await call('PUT', `/collections/${enc(cName.value.trim())}`, { vectors: { size: Number(cSize.value), distance: cDist.value } });
    toast(`created ${cName.value}`); setChosen(cName.value.trim()); render();
  }); } } },
  h('h3', {}, 'Create collection'), h('label', {}, 'name', cName), h('label', {}, 'vector size', cSize), h('label', {}, 'distance', cDist), h('button', { type: 'submit' }, 'Create'));
  const iColl = picker(names, choose(names), setChosen);
  iColl.id = 'index-collection';
  const iField = h('input', { id: 'index-field', placeholder: 'payload field' });
  const iType = h('select', { id: 'index-type' }, ['keyword', 'integer', 'float', 'bool', 'datetime'].map((d) => h('option', { value: d }, d)));
  const index = h('form', { id: 'create-index', class: 'card', on: { submit: (e) => { e.preventDefault(); guarded(async () => {
    await call('PUT', `/collections/${enc(iColl.value)}/index?wait=true`, { field_name: iField.value.trim(), field_schema: iType.value });
    toast(`indexed ${iField.value}`); render();
  }); } } },
  h('h3', {}, 'Create payload index'), h('label', {}, 'collection', iColl), h('label', {}, 'field', iField), h('label', {}, 'type', iType), h('button', { type: 'submit' }, 'Create index'));
  main.append(h('div', { class: 'row' }, create, index));
}

// ---- Point browser ----
function recordTable(points, withScore) {
  return h('table', { id: withScore ? 'results-table' : 'points-table' },
    h('tr', {}, h('th', {}, 'id'), withScore ? h('th', { class: 'num' }, 'score') : null, h('th', {}, 'payload'), h('th', {}, 'vector')),
    points.map((p) => h('tr', { 'data-id': String(p.id) },
      h('td', { class: 'pid' }, String(p.id)),
      withScore ? h('td', { class: 'num score' }, String(p.score)) : null,
      h('td', {}, h('code', { class: 'payload' }, JSON.stringify(p.payload ?? {}))),
      h('td', { class: 'muted' }, p.vector && !Array.isArray(p.vector) ? Object.keys(p.vector).map((k) => k || '""').join(', ') : p.vector ? `[${p.vector.slice(0, 6).map((x) => x.toFixed(3)).join(', ')}${p.vector.length > 6 ? `, … ${p.vector.length} dims` : ''}]` : '-'))));
}

async function pagePoints() {
  const names = await collectionNames();
  const coll = choose(names);
  const filter = h('textarea', { id: 'scroll-filter', rows: 4, placeholder: '{"must": [{"key": "category", "match": {"value": "a"}}]}' });
  filter.value = sessionStorage.getItem('grove-scroll-filter') || '';
  const limit = h('input', { id: 'scroll-limit', type: 'number', value: 20, min: 1, style: 'width:80px' });
  const withVec = h('input', { id: 'scroll-vectors', type: 'checkbox' });
  const out = h('div', { id: 'scroll-out' });
  let offset = null;
  const more = h('button', { class: 'secondary', id: 'scroll-more', hidden: true }, 'Next page');
  async function scroll(reset) {
    if (reset) offset = null;
    sessionStorage.setItem('grove-scroll-filter', filter.value);
    const body = { limit: Number(limit.value), with_payload: true, with_vector: withVec.checked };
    const f = parseJson(filter.value, 'filter');
    if (f) body.filter = f;
    if (offset !== null) body.offset = offset;
    const r = await call('POST', `/collections/${enc(sel.value)}/points/scroll`, body);
    offset = r.next_page_offset;
    more.hidden = offset === null || offset === undefined;
    out.replaceChildren(h('p', { class: 'muted' }, `${r.points.length} points${more.hidden ? '' : `; next page from id ${offset}`}`), recordTable(r.points, false));
  }
  more.addEventListener('click', () => guarded(() => scroll(false)));
  const sel = picker(names, coll, (n) => { setChosen(n); guarded(() => scroll(true)); });
  const getId = h('input', { id: 'get-id', placeholder: 'point id' });
  const getOut = h('div', { id: 'get-out' });
  const get = h('form', { class: 'card', on: { submit: (e) => { e.preventDefault(); guarded(async () => {
    const id = pointId(getId.value);
    const r = await call('POST', `/collections/${enc(sel.value)}/points`, { ids: [id], with_payload: true, with_vector: true });
    getOut.replaceChildren(r.length ? h('pre', { id: 'get-json' }, JSON.stringify(r[0], null, 2)) : h('p', { class: 'error' }, `no point ${id}`));
  }); } } }, h('h3', {}, 'Get by id'), h('label', {}, 'id', getId), h('button', { type: 'submit' }, 'Get'), getOut);
  const form = h('form', { class: 'card', id: 'scroll-form', on: { submit: (e) => { e.preventDefault(); guarded(() => scroll(true)); } } },
    h('h3', {}, 'Scroll'), h('label', {}, 'collection', sel), h('label', {}, 'limit', limit), h('label', {}, 'vectors', withVec),
    h('label', { style: 'display:flex;width:100%' }, 'filter (JSON, optional)', filter), h('button', { type: 'submit' }, 'Scroll'), ' ', more);
  main.replaceChildren(h('h2', {}, 'Point browser'), h('div', { class: 'row' }, form, get), h('div', { class: 'card' }, out));
  if (coll) await guarded(() => scroll(true));
}

// ---- Query console ----
const OPS = {
  keyword: ['match', 'any', 'except'],
  integer: ['match', 'range'],
  float: ['range'],
  bool: ['match'],
  datetime: ['range'],
};

// One condition from a builder row; value text: "a" or "a,b" (any/except) or "lo..hi" (range).
export function condition(field, type, op, raw) {
  const v = raw.trim();
  const scalar = (s) => (type === 'integer' ? Number(s) : type === 'float' ? Number(s) : type === 'bool' ? s === 'true' : s);
  if (op === 'match') return { key: field, match: { value: scalar(v) } };
  if (op === 'any' || op === 'except') return { key: field, match: { [op]: v.split(',').map((x) => scalar(x.trim())) } };
  const [lo, hi] = v.split('..').map((x) => x.trim());
  const range = {};
  const num = (s) => (type === 'datetime' ? s : Number(s));
  if (lo) range.gte = num(lo);
  if (hi) range.lte = num(hi);
  return { key: field, range };
}

// "256:30, 384:15" -> [{dim: 256, keep: 30}, {dim: 384, keep: 15}] (Matryoshka funnel stages).
export function funnel(textValue) {
  const t = textValue.trim();
  if (!t) return [];
  return t.split(',').map((part) => {
    const m = part.trim().match(/^(\d+)\s*:\s*(\d+)$/);
    if (!m) throw new Error(`funnel: "${part.trim()}" is not dim:keep (e.g. 256:30)`);
    return { dim: Number(m[1]), keep: Number(m[2]) };
  });
}

// `params` of a query from the console's fields (absent fields are left to the server).
export function searchParams(f) {
  const p = {};
  if (f.ef !== '') p.hnsw_ef = Number(f.ef);
  const q = {};
  if (f.qIgnore !== '') q.ignore = f.qIgnore === 'true';
  if (f.qRescore !== '') q.rescore = f.qRescore === 'true';
  if (f.qOversampling !== '') q.oversampling = Number(f.qOversampling);
  if (Object.keys(q).length) p.quantization = q;
  if (f.mDim !== '') {
    const m = { dim: Number(f.mDim) };
    if (f.mOversample !== '') m.oversample = Number(f.mOversample);
    const stages = funnel(f.mFunnel);
    if (stages.length) m.funnel = stages;
    if (f.mPath !== '') m.path = f.mPath;
    p.matryoshka = m;
  }
  return Object.keys(p).length ? p : undefined;
}

const choice = (id, values) => h('select', { id }, values.map(([v, label]) => h('option', { value: v }, label)));

async function pageQuery() {
  const names = await collectionNames();
  const coll = choose(names);
  let schema = {};
  let info = null;
  const rows = h('div', { id: 'filter-rows' });
  const vector = h('textarea', { id: 'query-vector', rows: 3, placeholder: '[0.1, 0.2, ...]' });
  const fromId = h('input', { id: 'query-from-id', placeholder: 'or a stored point id', style: 'width:160px' });
  const raw = h('textarea', { id: 'query-filter', rows: 3, placeholder: 'raw filter JSON (merged into must)' });
  const limit = h('input', { id: 'query-limit', type: 'number', value: 10, min: 1, style: 'width:80px' });
  const strategy = h('select', { id: 'query-strategy' }, ['auto', 'exact', 'hnsw', 'acorn'].map((s) => h('option', { value: s }, s)));
  const ef = h('input', { id: 'query-ef', type: 'number', min: 1, placeholder: 'default', style: 'width:90px' });
  const qIgnore = choice('quant-ignore', [['', 'default (no)'], ['true', 'yes'], ['false', 'no']]);
  const qRescore = choice('quant-rescore', [['', 'default (yes)'], ['true', 'yes'], ['false', 'no']]);
  const qOversampling = h('input', { id: 'quant-oversampling', type: 'number', min: 1, max: 64, step: 'any', placeholder: 'default', style: 'width:90px' });
  const quantNote = h('span', { class: 'muted', id: 'quant-note' });
  const mDim = h('select', { id: 'mrl-dim' });
  const mOversample = h('input', { id: 'mrl-oversample', type: 'number', min: 1, placeholder: '4', style: 'width:80px' });
  const mFunnel = h('input', { id: 'mrl-funnel', placeholder: 'dim:keep, e.g. 256:30', style: 'width:200px' });
  const mPath = choice('mrl-path', [['', 'auto'], ['scan', 'scan'], ['graph', 'graph']]);
  const mrlBox = h('fieldset', { id: 'mrl-params', class: 'params', hidden: true },
    h('legend', {}, 'Matryoshka'), h('label', {}, 'first-stage prefix', mDim), h('label', {}, 'oversample', mOversample),
    h('label', {}, 'funnel stages', mFunnel), h('label', {}, 'first-stage path', mPath));
  const out = h('div', { id: 'query-out' });
  const explainBox = h('div', { id: 'explain' });

  function addRow() {
    const fields = Object.keys(schema);
    if (!fields.length) { toast('this collection has no payload indexes; use the raw JSON box', true); return; }
    const field = h('select', { class: 'f-field' }, fields.map((f) => h('option', { value: f }, f)));
    const op = h('select', { class: 'f-op' });
    const value = h('input', { class: 'f-value', placeholder: 'value, a,b or lo..hi' });
    const fillOps = () => op.replaceChildren(...(OPS[schema[field.value]] || ['match']).map((o) => h('option', { value: o }, o)));
    field.addEventListener('change', fillOps);
    fillOps();
    const row = h('div', { class: 'frow' }, field, op, value, h('button', { type: 'button', class: 'secondary', on: { click: () => row.remove() } }, '×'));
    rows.append(row);
  }
  async function loadSchema(n) {
    if (!n) return;
    info = await call('GET', `/collections/${enc(n)}`);
    schema = Object.fromEntries(Object.entries(info.payload_schema).map(([f, i]) => [f, i.data_type]));
    rows.replaceChildren();
    const q = info.config.quantization_config;
    quantNote.textContent = q ? `collection: ${Object.keys(q).join(', ')} quantization` : 'this collection has no quantization: these have no effect';
    const m = info.matryoshka;
    mrlBox.hidden = !m;
    const size = info.config.params.vectors.size;
    mDim.replaceChildren(h('option', { value: '' }, 'off'),
      ...(m ? m.prefixes.map((p) => h('option', { value: p.dim }, String(p.dim))) : []),
      ...(m && size ? [h('option', { value: size }, `${size} (full)`)] : []));
  }
  const sel = picker(names, coll, (n) => { setChosen(n); guarded(() => loadSchema(n)); });

  // The request body the console sends (also shown under the results).
  async function body() {
    let vec = parseJson(vector.value, 'vector');
    if (vec === undefined && fromId.value.trim()) vec = await storedVector(sel.value, fromId.value);
    if (!Array.isArray(vec)) throw new Error('give a query vector as a JSON array, or a stored point id');
    const must = [...rows.querySelectorAll('.frow')].map((r) => condition(r.querySelector('.f-field').value, schema[r.querySelector('.f-field').value], r.querySelector('.f-op').value, r.querySelector('.f-value').value));
    const extra = parseJson(raw.value, 'raw filter');
    let filter;
    if (extra && must.length) filter = { must: [...must, extra] };
    else if (must.length) filter = { must };
    else filter = extra;
    const b = { query: vec, limit: Number(limit.value), with_payload: true, strategy: strategy.value, explain: true };
    if (filter) b.filter = filter;
    const params = searchParams({
      ef: ef.value.trim(), qIgnore: qIgnore.value, qRescore: qRescore.value, qOversampling: qOversampling.value.trim(),
      mDim: mrlBox.hidden ? '' : mDim.value, mOversample: mOversample.value.trim(), mFunnel: mFunnel.value, mPath: mPath.value,
    });
    if (params) b.params = params;
    return b;
  }
  async function run() {
    const b = await body();
    const r = await call('POST', `/collections/${enc(sel.value)}/points/query`, b);
    window.groveLastQuery = { request: b, response: r };
    out.replaceChildren(h('p', { class: 'muted' }, `${r.points.length} results`), recordTable(r.points, true),
      h('details', {}, h('summary', {}, 'request body'), h('pre', { id: 'query-body' }, JSON.stringify(b))));
    explainBox.replaceChildren(h('h3', {}, 'Explain'), r.explain ? drawExplain(r.explain) : h('p', { class: 'muted' }, 'no explain record'));
  }
  const form = h('form', { class: 'card', id: 'query-form', on: { submit: (e) => { e.preventDefault(); guarded(run); } } },
    h('h3', {}, 'Query'),
    h('div', {}, h('label', {}, 'collection', sel), h('label', {}, 'limit', limit), h('label', {}, 'strategy', strategy), h('label', {}, 'hnsw ef', ef), h('label', {}, 'vector from point id', fromId)),
    h('label', { style: 'display:flex;width:100%' }, 'query vector (JSON array)', vector),
    h('div', { class: 'row' },
      h('fieldset', { id: 'quant-params', class: 'params' }, h('legend', {}, 'Quantization'),
        h('label', {}, 'ignore codes', qIgnore), h('label', {}, 'rescore', qRescore), h('label', {}, 'oversampling', qOversampling), quantNote),
      mrlBox),
    h('h3', {}, 'Filter'), rows,
    h('button', { type: 'button', class: 'secondary', id: 'add-condition', on: { click: addRow } }, '+ condition'),
    h('label', { style: 'display:flex;width:100%;margin-top:8px' }, 'raw filter JSON', raw),
    h('button', { type: 'submit', id: 'run-query' }, 'Run query'));
  main.replaceChildren(h('h2', {}, 'Query console'), form, h('div', { class: 'card' }, explainBox), h('div', { class: 'card' }, out));
  await guarded(() => loadSchema(coll));
}

// ---- Snapshots ----
async function pageSnapshots() {
  const names = await collectionNames();
  const coll = choose(names);
  const list = h('div', { id: 'snapshot-list' });
  async function load() {
    const snaps = await call('GET', `/collections/${enc(sel.value)}/snapshots`);
    list.replaceChildren(snaps.length ? h('table', { id: 'snapshots-table' },
      h('tr', {}, h('th', {}, 'name'), h('th', {}, 'created'), h('th', { class: 'num' }, 'size'), h('th', {}, '')),
      snaps.map((s) => h('tr', {},
        h('td', {}, s.name), h('td', {}, s.creation_time || '-'), h('td', { class: 'num' }, `${fmt(s.size)} B (${bytes(s.size)})`),
        h('td', {},
          h('a', { href: '#', class: 'download', on: { click: (e) => { e.preventDefault(); guarded(async () => {
            const b = await blob(`/collections/${enc(sel.value)}/snapshots/${enc(s.name)}`);
            const a = h('a', { href: URL.createObjectURL(b), download: s.name });
            document.body.append(a); a.click(); a.remove();
          }); } } }, 'download'),
          ' ',
          writeOnly(h('button', { class: 'secondary restore', on: { click: () => guarded(async () => {
            if (!confirm(`Restore ${sel.value} from ${s.name}? Its current data is replaced.`)) return;
            await call('PUT', `/collections/${enc(sel.value)}/snapshots/recover?wait=true`, { location: s.name });
            toast(`restored ${sel.value} from ${s.name}`);
          }) } }, 'restore')))))) : h('p', { class: 'muted' }, 'No snapshots of this collection.'));
  }
  const sel = picker(names, coll, (n) => { setChosen(n); guarded(load); });
  const create = writeOnly(h('button', { id: 'create-snapshot', on: { click: () => guarded(async () => {
    const s = await call('POST', `/collections/${enc(sel.value)}/snapshots?wait=true`);
    toast(`created ${s.name}`); await load();
  }) } }, 'Create snapshot'));
  main.replaceChildren(h('h2', {}, 'Snapshots'), h('div', { class: 'card' }, h('label', {}, 'collection', sel), ' ', create, list));
  if (coll) await guarded(load);
}

// ---- Metrics ----
// Parses Prometheus text into [{name, labels, value}].
export function parseMetrics(body) {
  const out = [];
  for (const line of body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const p of (m[3] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[p[1]] = p[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function barTable(id, title, entries) {
  const most = Math.max(1, ...entries.map(([, v]) => v));
  return h('div', { class: 'card' }, h('h3', {}, title), entries.length ? h('table', { id },
    entries.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'num' }, fmt(v)),
      h('td', { style: 'width:40%' }, h('div', { class: 'bar' }, h('span', { style: `width:${(100 * v) / most}%` })))))) : h('p', { class: 'muted' }, 'none yet'));
}

async function pageMetrics() {
  const m = parseMetrics(await text('/metrics'));
  const sum = (pred, key) => {
    const acc = new Map();
    for (const s of m.filter(pred)) acc.set(key(s), (acc.get(key(s)) || 0) + s.value);
    return [...acc.entries()].sort((a, b) => b[1] - a[1]);
  };
  const reqs = sum((s) => s.name.endsWith('requests_total'), (s) => `${s.labels.method || ''} ${s.labels.route || s.labels.path || s.name}`.trim());
  const searches = sum((s) => s.name.includes('search') && s.name.endsWith('_total') && (s.labels.path || s.labels.planner_path), (s) => s.labels.path || s.labels.planner_path);
  const points = m.filter((s) => s.name.includes('points') && s.labels.collection).map((s) => [`${s.labels.collection} ${s.name}`, s.value]);
  main.replaceChildren(h('h2', {}, 'Metrics'),
    h('div', { class: 'row' }, barTable('metrics-searches', 'Searches per planner path', searches), barTable('metrics-points', 'Points per collection', points)),
    barTable('metrics-requests', 'Requests per route', reqs.slice(0, 30)));
}

// ---- Shell ----
const PAGES = { collections: pageCollections, points: pagePoints, query: pageQuery, calibrate: pageCalibrate, diagnostics: pageDiagnostics, snapshots: pageSnapshots, metrics: pageMetrics };

async function render() {
  const page = (location.hash.replace(/^#\//, '') || 'collections').split('/')[0];
  const f = PAGES[page] || pageCollections;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  main.dataset.page = page;
  main.dataset.ready = 'false';
  if (level === null) {
    main.replaceChildren(h('div', { class: 'card' }, h('p', {}, 'Enter an API key (top right) to use the dashboard.')));
  } else {
    try { await f(); } catch (e) { main.replaceChildren(h('div', { class: 'card error' }, e.message)); }
  }
  main.dataset.ready = 'true';
}

async function identify() {
  const badge = document.getElementById('access');
  try {
    level = await whoami();
    badge.textContent = level === 'write' ? 'read + write' : 'read only';
    badge.className = `badge ${level}`;
  } catch (e) {
    level = null;
    badge.textContent = e.status === 401 ? 'key needed' : 'error';
    badge.className = 'badge read';
  }
  document.body.dataset.access = level || 'none';
}

document.getElementById('apikey').value = getKey();
document.getElementById('keyform').addEventListener('submit', async (e) => {
  e.preventDefault();
  setKey(document.getElementById('apikey').value.trim());
  await identify();
  await render();
});
window.addEventListener('hashchange', render);
await identify();
await render();
