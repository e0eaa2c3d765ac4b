// The analysis pages: the Matryoshka calibration (#/calibrate) drawn as recall against cost, and
// the LIMIT-style subset diagnostic (#/diagnostics) with its label per query. Both send the
// ordinary REST requests and draw exactly what comes back.
import { call, enc } from './api.js';
import { h, fmt, guarded, parseJson, collectionNames, picker, choose, setChosen, storedVector } from './dom.js';
import { drawCalibration, drawLabels, labelColour } from './charts.js';

const main = document.getElementById('main');

// "1, 2, 4" -> [1, 2, 4]; empty -> [].
function numbers(s, what) {
  const t = s.trim();
  if (!t) return [];
  return t.split(/[\s,]+/).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${what}: ${x} is not a positive integer`);
    return n;
  });
}

// The last answer each page drew, for people (and tests) comparing it with the REST API.
export const last = { calibration: null, diagnostic: null };
window.groveAnalysis = last;

// ---- Matryoshka calibration ----
export async function pageCalibrate() {
  const names = await collectionNames();
  const coll = choose(names);
  const note = h('p', { class: 'muted', id: 'calibrate-note' });
  const target = h('input', { id: 'cal-target', type: 'number', step: '0.01', min: 0, max: 1, value: 0.95, style: 'width:90px' });
  const sample = h('input', { id: 'cal-sample', type: 'number', min: 1, value: 100, style: 'width:90px' });
  const seed = h('input', { id: 'cal-seed', type: 'number', min: 0, value: 42, style: 'width:90px' });
  const dims = h('input', { id: 'cal-dims', placeholder: 'all declared', style: 'width:160px' });
  const overs = h('input', { id: 'cal-oversamples', placeholder: '1, 2, 4, 8, 16, 32', style: 'width:180px' });
  const filter = h('textarea', { id: 'cal-filter', rows: 2, placeholder: 'optional filter JSON: queries and answers among matching points' });
  const out = h('div', { id: 'calibrate-out' });
  async function describe(n) {
    if (!n) { note.textContent = 'No collections yet.'; return; }
    const info = await call('GET', `/collections/${enc(n)}`);
    const m = info.matryoshka;
    note.textContent = m
      ? `prefixes ${m.prefixes.map((p) => p.dim).join(', ')} (${m.dtype}${m.pca ? ', PCA' : ''}) of ${fmt(info.points_count)} points`
      : `${n} declares no Matryoshka prefixes: the calibration needs "matryoshka": {"dims": [...]} at creation`;
  }
  async function run() {
    const body = { target_recall: Number(target.value), sample: Number(sample.value), seed: Number(seed.value) };
    const d = numbers(dims.value, 'dims');
    const o = numbers(overs.value, 'oversamples');
    if (d.length) body.dims = d;
    if (o.length) body.oversamples = o;
    const f = parseJson(filter.value, 'filter');
    if (f) body.filter = f;
    out.replaceChildren(h('p', { class: 'muted' }, 'calibrating…'));
    const r = await call('POST', `/collections/${enc(sel.value)}/matryoshka/calibrate`, body);
    last.calibration = { request: body, response: r };
    out.replaceChildren(
      h('p', { class: 'muted', id: 'cal-summary' }, `${r.queries} sampled queries, recall@${r.k} against exact full-dimension search; exact scan costs ${fmt(Math.round(r.exact.cost))} components and ${fmt(Math.round(r.exact.micros))} µs per query`),
      drawCalibration(r),
      calibrationTable(r),
      h('details', {}, h('summary', {}, 'request body'), h('pre', { id: 'cal-body' }, JSON.stringify(body))));
  }
  const sel = picker(names, coll, (n) => { setChosen(n); guarded(() => describe(n)); });
  const form = h('form', { class: 'card', id: 'calibrate-form', on: { submit: (e) => { e.preventDefault(); guarded(run); } } },
    h('h3', {}, 'Matryoshka calibration'),
    h('p', { class: 'muted' }, 'Which first-stage prefix and oversampling reach the target recall, at what cost? Sampled stored points are the queries; each setting is measured against exact search at full dimension.'),
    h('div', {}, h('label', {}, 'collection', sel), h('label', {}, 'target recall', target), h('label', {}, 'sample', sample), h('label', {}, 'seed', seed),
      h('label', {}, 'prefix dims', dims), h('label', {}, 'oversamples', overs)),
    h('label', { style: 'display:flex;width:100%' }, 'filter (JSON, optional)', filter),
    note, h('button', { type: 'submit', id: 'run-calibration' }, 'Calibrate'));
  main.replaceChildren(h('h2', {}, 'Matryoshka calibration'), form, h('div', { class: 'card' }, out));
  await guarded(() => describe(coll));
}

function calibrationTable(r) {
  const rec = r.recommended;
  const isRec = (x) => rec && rec.dim === x.dim && rec.oversample === x.oversample;
  const row = (x, cls) => h('tr', { class: cls || (isRec(x) ? 'recommended' : ''), 'data-dim': x.dim, 'data-oversample': x.oversample },
    h('td', { class: 'num' }, String(x.dim)), h('td', { class: 'num' }, cls ? '-' : String(x.oversample)),
    h('td', { class: 'num recall' }, x.recall.toFixed(4)), h('td', { class: 'num' }, x.min_recall.toFixed(4)),
    h('td', { class: 'num' }, fmt(Math.round(x.distances))), h('td', { class: 'num cost' }, fmt(Math.round(x.cost))),
    h('td', { class: 'num' }, x.cost > 0 ? `${(r.exact.cost / x.cost).toFixed(1)}×` : '-'),
    h('td', { class: 'num' }, fmt(Math.round(x.micros))));
  return h('table', { id: 'calibration-table' },
    h('tr', {}, ['dim', 'oversample', 'recall', 'min recall', 'distances', 'cost', 'cheaper', 'micros'].map((t) => h('th', { class: 'num' }, t))),
    row(r.exact, 'exact'), r.rows.map((x) => row(x)));
}

// ---- Subset diagnostic ----
const EXAMPLE = '[{"point": 7, "relevant": [7, 12, 40]},\n {"vector": [0.1, 0.2, ...], "relevant": [3, 4]}]';

// Queries as the API takes them; {"point": id} is replaced by that stored point's vector.
async function resolveQueries(coll, queries) {
  if (!Array.isArray(queries) || !queries.length) throw new Error('queries: give a JSON array of {"vector" or "point", "relevant": [...]}');
  return Promise.all(queries.map(async (q, i) => {
    if (q.vector !== undefined) return { vector: q.vector, relevant: q.relevant };
    if (q.point === undefined) throw new Error(`queries[${i}]: needs "vector" or "point"`);
    return { vector: await storedVector(coll, q.point), relevant: q.relevant };
  }));
}

export async function pageDiagnostics() {
  const names = await collectionNames();
  const coll = choose(names);
  const queries = h('textarea', { id: 'diag-queries', rows: 5, placeholder: EXAMPLE });
  queries.value = sessionStorage.getItem('grove-diag-queries') || '';
  const ks = h('input', { id: 'diag-k', value: '2, 10', style: 'width:120px' });
  const sample = h('input', { id: 'diag-sample', type: 'number', min: 1, placeholder: 'all', style: 'width:90px' });
  const seed = h('input', { id: 'diag-seed', type: 'number', min: 0, value: 0, style: 'width:90px' });
  const budget = h('input', { id: 'diag-budget', type: 'number', min: 1, step: 'any', placeholder: 'default', style: 'width:90px' });
  const filter = h('textarea', { id: 'diag-filter', rows: 2, placeholder: 'optional filter JSON: only matching points compete' });
  const out = h('div', { id: 'diag-out' });
  async function run() {
    sessionStorage.setItem('grove-diag-queries', queries.value);
    const qs = await resolveQueries(sel.value, parseJson(queries.value, 'queries'));
    const body = { queries: qs, k: numbers(ks.value, 'k') };
    if (sample.value) body.sample = Number(sample.value);
    if (seed.value) body.seed = Number(seed.value);
    if (budget.value) body.time_budget_secs = Number(budget.value);
    const f = parseJson(filter.value, 'filter');
    if (f) body.filter = f;
    out.replaceChildren(h('p', { class: 'muted' }, 'diagnosing…'));
    const r = await call('POST', `/collections/${enc(sel.value)}/diagnostics/subsets`, body);
    last.diagnostic = { request: body, response: r };
    out.replaceChildren(diagnosis(r));
  }
  const sel = picker(names, coll, setChosen);
  const form = h('form', { class: 'card', id: 'diag-form', on: { submit: (e) => { e.preventDefault(); guarded(run); } } },
    h('h3', {}, 'Subset diagnostic (LIMIT)'),
    h('p', { class: 'muted' }, 'Per query: can the exact top-|R| be your relevant set R, does the index find it, and if not, is it your query vector (encoder gap) or no vector at all (geometry gap)?'),
    h('div', {}, h('label', {}, 'collection', sel), h('label', {}, 'k (recall@k)', ks), h('label', {}, 'sample', sample), h('label', {}, 'seed', seed), h('label', {}, 'time budget (s)', budget)),
    h('label', { style: 'display:flex;width:100%' }, 'queries (JSON; "point": id takes that point\'s vector)', queries),
    h('label', { style: 'display:flex;width:100%' }, 'filter (JSON, optional)', filter),
    h('button', { type: 'submit', id: 'run-diagnostic' }, 'Diagnose'));
  main.replaceChildren(h('h2', {}, 'Diagnostics'), form, h('div', { class: 'card' }, out));
}

function diagnosis(r) {
  const recalls = (v) => (v ? v.map((x) => x.toFixed(3)).join(' / ') : '-');
  const yes = (b) => (b === null || b === undefined ? '-' : b ? 'yes' : 'no');
  const summary = h('dl', { class: 'kv', id: 'diag-summary' },
    h('dt', {}, 'queries diagnosed'), h('dd', {}, `${fmt(r.diagnosed)} of ${fmt(r.total_queries)}`),
    h('dt', {}, 'competing points'), h('dd', {}, fmt(r.allowed_points)),
    h('dt', {}, `mean recall@${r.k.join(' / @')} exact`), h('dd', { id: 'diag-mean-exact' }, recalls(r.mean_recall_exact)),
    h('dt', {}, 'mean recall through the index'), h('dd', {}, recalls(r.mean_recall_index)),
    h('dt', {}, 'index loss'), h('dd', {}, recalls(r.index_loss)),
    h('dt', {}, 'exact top-|R| is R'), h('dd', {}, `${fmt(r.exact_top_is_relevant)} queries`),
    h('dt', {}, 'fragile below margin'), h('dd', {}, r.fragile_margin.toExponential(2)),
    h('dt', {}, 'time'), h('dd', {}, `${r.elapsed_secs.toFixed(2)} s${r.budget_exhausted ? ' (budget ran out: some queries undetermined)' : ''}`));
  const head = h('tr', {}, ['query', '|R|', 'label', `recall exact @${r.k.join('/')}`, `recall index @${r.k.join('/')}`, 'exact top = R', 'index top = R', 'margin', 'margin bound', 'note']
    .map((t) => h('th', {}, t)));
  const rows = r.queries.map((q) => h('tr', { 'data-query': q.query },
    h('td', { class: 'num' }, String(q.query)), h('td', { class: 'num' }, String(q.relevant)),
    h('td', {}, h('span', { class: 'label', style: `background:${labelColour(q.label)}` }, q.label)),
    h('td', { class: 'num recall-exact' }, recalls(q.recall_exact)), h('td', { class: 'num recall-index' }, recalls(q.recall_index)),
    h('td', {}, yes(q.exact_top_is_relevant)), h('td', {}, yes(q.index_top_is_relevant)),
    h('td', { class: 'num' }, q.margin === null || q.margin === undefined ? '-' : q.margin.toExponential(2)),
    h('td', { class: 'num' }, q.margin_upper === null || q.margin_upper === undefined ? '-' : q.margin_upper.toExponential(2)),
    h('td', { class: 'muted' }, q.reason || '')));
  return h('div', {}, h('div', { class: 'row' }, h('div', { class: 'card' }, h('h3', {}, 'Summary'), summary), h('div', { class: 'card' }, h('h3', {}, 'Queries per label'), drawLabels(r.labels))),
    h('h3', {}, 'Per query'), h('table', { id: 'diag-table' }, head, rows));
}
