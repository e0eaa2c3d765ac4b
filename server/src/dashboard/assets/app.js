// Grove dashboard: hash routes (#/collections, #/points, #/query, #/snapshots, #/metrics), each a
// function that renders into <main> from Grove's REST API.
import { call, text, blob, whoami, getKey, setKey, enc } from './api.js';
import { drawExplain } from './explain.js';

const main = document.getElementById('main');
let level = null; // 'write' | 'read' | null (unknown / not authorised)

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else if (k === 'text') e.textContent = v;
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const canWrite = () => level === 'write';
const writeOnly = (node) => (canWrite() ? node : null);
const fmt = (n) => Number(n).toLocaleString('en-US');

function toast(msg, err) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = err ? 'toast err' : 'toast';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

async function guarded(f) {
  try { return await f(); } catch (e) { toast(e.message, true); return undefined; }
}

function parseJson(textValue, what) {
  const s = textValue.trim();
  if (!s) return undefined;
  try { return JSON.parse(s); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}

async function collectionNames() {
  const r = await call('GET', '/collections');
  return r.collections.map((c) => c.name).sort();
}

function picker(names, current, onChange) {
  const sel = h('select', { id: 'collection', on: { change: () => onChange(sel.value) } },
    names.map((n) => h('option', { value: n, selected: n === current }, n)));
  return sel;
}

let chosen = sessionStorage.getItem('grove-collection') || '';
function choose(names) {
  if (!names.includes(chosen)) chosen = names[0] || '';
  return chosen;
}
function setChosen(n) { chosen = n; sessionStorage.setItem('grove-collection', n); }

// ---- Collections ----
async function pageCollections() {
  const names = await collectionNames();
  const infos = await Promise.all(names.map(async (n) => [n, await call('GET', `/collections/${enc(n)}`)]));
  const rows = infos.map(([n, c]) => {
    const v = c.config.params.vectors;
    // Named vectors come as a map of names (the unnamed form as one object).
    const named = v.size === undefined ? Object.entries(v) : null;
    const pct = c.points_count ? Math.min(100, (100 * c.indexed_vectors_count) / c.points_count) : 100;
    const idx = Object.entries(c.payload_schema).map(([f, i]) => `${f}: ${i.data_type} (${fmt(i.points)})`).join(', ') || '-';
    return h('tr', { 'data-collection': n },
      h('td', {}, h('a', { href: '#/points', on: { click: () => setChosen(n) } }, n)),
      h('td', {}, c.status),
      h('td', { class: 'num' }, named ? named.map(([k, p]) => `${k || '""'}: ${p.size}`).join(', ') : String(v.size)),
      h('td', {}, named ? named.map(([, p]) => p.distance).join(', ') : v.distance),
      h('td', { class: 'num' }, fmt(c.points_count)),
      h('td', {}, h('div', { class: 'bar', title: `${fmt(c.indexed_vectors_count)} indexed` }, h('span', { style: `width:${pct}%` })),
        h('span', { class: 'muted' }, `${fmt(c.indexed_vectors_count)} (${pct.toFixed(0)} %)`)),
      h('td', {}, idx),
      h('td', {}, c.matryoshka ? 'yes' : '-'));
  });
  const table = h('table', { id: 'collections-table' },
    h('tr', {}, ['name', 'status', 'dim', 'distance', 'points', 'indexed vectors', 'payload indexes', 'matryoshka'].map((t) => h('th', { class: t === 'points' || t === 'dim' ? 'num' : '' }, t))),
    rows);
  main.replaceChildren(h('h2', {}, 'Collections'), h('div', { class: 'card' }, names.length ? table : h('p', { class: 'muted' }, 'No collections yet.')));

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
    const id = /^\d+$/.test(getId.value.trim()) ? Number(getId.value.trim()) : getId.value.trim();
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

async function pageQuery() {
  const names = await collectionNames();
  const coll = choose(names);
  let schema = {};
  const rows = h('div', { id: 'filter-rows' });
  const vector = h('textarea', { id: 'query-vector', rows: 3, placeholder: '[0.1, 0.2, ...]' });
  const fromId = h('input', { id: 'query-from-id', placeholder: 'or a stored point id', style: 'width:160px' });
  const raw = h('textarea', { id: 'query-filter', rows: 3, placeholder: 'raw filter JSON (merged into must)' });
  const limit = h('input', { id: 'query-limit', type: 'number', value: 10, min: 1, style: 'width:80px' });
  const strategy = h('select', { id: 'query-strategy' }, ['auto', 'exact', 'hnsw', 'acorn'].map((s) => h('option', { value: s }, s)));
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
    const info = await call('GET', `/collections/${enc(n)}`);
    schema = Object.fromEntries(Object.entries(info.payload_schema).map(([f, i]) => [f, i.data_type]));
    rows.replaceChildren();
  }
  const sel = picker(names, coll, (n) => { setChosen(n); guarded(() => loadSchema(n)); });

  // The request body the console sends (also shown under the results).
  async function body() {
    let vec = parseJson(vector.value, 'vector');
    if (vec === undefined && fromId.value.trim()) {
      const s = fromId.value.trim();
      const id = /^\d+$/.test(s) ? Number(s) : s;
      const r = await call('POST', `/collections/${enc(sel.value)}/points`, { ids: [id], with_vector: true, with_payload: false });
      if (!r.length) throw new Error(`no point ${s} in ${sel.value}`);
      vec = r[0].vector;
    }
    if (!Array.isArray(vec)) throw new Error('give a query vector as a JSON array, or a stored point id');
    const must = [...rows.querySelectorAll('.frow')].map((r) => condition(r.querySelector('.f-field').value, schema[r.querySelector('.f-field').value], r.querySelector('.f-op').value, r.querySelector('.f-value').value));
    const extra = parseJson(raw.value, 'raw filter');
    let filter;
    if (extra && must.length) filter = { must: [...must, extra] };
    else if (must.length) filter = { must };
    else filter = extra;
    const b = { query: vec, limit: Number(limit.value), with_payload: true, strategy: strategy.value, explain: true };
    if (filter) b.filter = filter;
    return b;
  }
  async function run() {
    const b = await body();
    const r = await call('POST', `/collections/${enc(sel.value)}/points/query`, b);
    out.replaceChildren(h('p', { class: 'muted' }, `${r.points.length} results`), recordTable(r.points, true),
      h('details', {}, h('summary', {}, 'request body'), h('pre', { id: 'query-body' }, JSON.stringify(b))));
    explainBox.replaceChildren(h('h3', {}, 'Explain'), r.explain ? drawExplain(r.explain) : h('p', { class: 'muted' }, 'no explain record'));
  }
  const form = h('form', { class: 'card', id: 'query-form', on: { submit: (e) => { e.preventDefault(); guarded(run); } } },
    h('h3', {}, 'Query'),
    h('div', {}, h('label', {}, 'collection', sel), h('label', {}, 'limit', limit), h('label', {}, 'strategy', strategy), h('label', {}, 'vector from point id', fromId)),
    h('label', { style: 'display:flex;width:100%' }, 'query vector (JSON array)', vector),
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
        h('td', {}, s.name), h('td', {}, s.creation_time || '-'), h('td', { class: 'num' }, fmt(s.size)),
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
const PAGES = { collections: pageCollections, points: pagePoints, query: pageQuery, snapshots: pageSnapshots, metrics: pageMetrics };

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
