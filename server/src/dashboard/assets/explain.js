// Draws a query's Explain record as inline SVG: the path and its reason, a selectivity bar,
// allowed vs live points, the work done, what quantized codes did, and each Matryoshka stage.
import { el, wrap, fmt } from './svg.js';

const PATH_COLOURS = { exact: '#2f6f4f', hnsw: '#3b82c4', filtered_hnsw: '#3b82c4', acorn1: '#8a5a14', acorn_gamma: '#a0522d' };

function colour(path) {
  const p = String(path).toLowerCase();
  for (const [k, c] of Object.entries(PATH_COLOURS)) if (p.includes(k)) return c;
  if (p.includes('acorn')) return '#8a5a14';
  if (p.includes('matryoshka')) return '#6b4fa0';
  return '#5b6b7c';
}

// Layout: a label column, then bars, then the figures. Wide enough for the longest label
// ("distances computed", "payloads scanned") at 12px.
const W = 900;
const LABEL = 0;
const BAR = 160;
const BAR_W = 440;
const FIG = BAR + BAR_W + 12;

export function drawExplain(ex) {
  const svg = el('svg', { width: W, viewBox: `0 0 ${W} 10`, role: 'img', 'data-testid': 'explain-svg' });
  let y = 0;
  const label = (t, extra) => svg.append(el('text', { x: LABEL, y: y + 12, 'font-size': 12, fill: '#5b6b7c', ...extra }, t));
  const lines = (text, x, width, attrs) => {
    const ls = wrap(text, width);
    ls.forEach((l, i) => svg.append(el('text', { x, y: y + 12 + i * 15, 'font-size': 12, fill: '#1d2733', ...attrs }, l)));
    return ls.length;
  };

  // Path chosen and reason.
  svg.append(el('rect', { x: 0, y, width: 150, height: 30, rx: 5, fill: colour(ex.path) }));
  svg.append(el('text', { x: 75, y: y + 20, 'text-anchor': 'middle', fill: '#fff', 'font-size': 14, 'font-weight': 700, 'data-testid': 'explain-path' }, ex.path));
  const n = lines(ex.reason || '', BAR, 110, { 'data-testid': 'explain-reason' });
  y += Math.max(36, n * 15 + 8) + 8;

  // Selectivity bar: allowed / live.
  const live = Math.max(ex.live_points || 0, 1);
  const frac = Math.min(1, (ex.allowed_points || 0) / live);
  label('selectivity');
  svg.append(el('rect', { x: BAR, y, width: BAR_W, height: 16, rx: 3, fill: '#e6ebef' }));
  svg.append(el('rect', { x: BAR, y, width: Math.max(1, BAR_W * frac), height: 16, rx: 3, fill: '#3b82c4' }));
  svg.append(el('text', { x: FIG, y: y + 12, 'font-size': 12, fill: '#1d2733', 'data-testid': 'explain-selectivity' }, `${(100 * (ex.selectivity || 0)).toFixed(2)} %`));
  y += 22;
  svg.append(el('text', { x: BAR, y: y + 10, 'font-size': 12, fill: '#1d2733' }, `${fmt(ex.allowed_points)} allowed of ${fmt(ex.live_points)} live points`));
  y += 22;

  // Work done: bars on a shared log scale.
  const work = [
    ['nodes visited', ex.nodes_visited, 'nodes'],
    ['distances computed', ex.distances_computed, 'distances'],
    ['unindexed scanned', ex.unindexed_scanned, 'unindexed'],
  ];
  if (ex.filter) work.push(['payloads scanned', ex.filter.payloads_scanned, 'payloads']);
  if (ex.quantization) work.push(['code distances', ex.quantization.code_distances, 'code-distances'], ['rescored', ex.quantization.rescored, 'rescored']);
  const top = Math.log10(Math.max(10, ...work.map(([, v]) => v || 0), ex.live_points || 0) + 1);
  for (const [name, v, id] of work) {
    const w = v ? Math.max(2, BAR_W * Math.log10(v + 1) / top) : 0;
    label(name);
    svg.append(el('rect', { x: BAR, y: y + 1, width: w, height: 12, rx: 2, fill: '#8fb9a3' }));
    svg.append(el('text', { x: BAR + w + 8, y: y + 11, 'font-size': 12, fill: '#1d2733', 'data-testid': `explain-${id}` }, fmt(v)));
    y += 18;
  }
  if (ex.ef !== null && ex.ef !== undefined) {
    label(`ef = ${ex.ef}`, { 'data-testid': 'explain-ef' });
    y += 18;
  }
  if (ex.filter) {
    const f = ex.filter;
    const idx = f.indexed_fields.length ? f.indexed_fields.join(', ') : 'none';
    const un = f.unindexed_fields.length ? f.unindexed_fields.join(', ') : 'none';
    label('filter');
    const k = lines(`${fmt(f.cardinality)} matches; indexed: ${idx}; unindexed: ${un}; compiled in ${fmt(f.micros)} µs`, BAR, 110, { 'data-testid': 'explain-filter' });
    y += k * 15 + 6;
  }
  if (ex.quantization) {
    const q = ex.quantization;
    label('quantization');
    const bound = q.error_bound === null || q.error_bound === undefined ? '' : `; error bound ${Number(q.error_bound).toPrecision(3)}`;
    const k = lines(`${q.kind} codes ${q.used ? 'used' : 'not used'}: ${q.reason}${bound}`, BAR, 110, { 'data-testid': 'explain-quantization' });
    y += k * 15 + 6;
  }

  // Matryoshka funnel: one row per stage, candidates in (light) and kept (dark) on a shared
  // linear scale, the stage's figures beside it.
  const stages = ex.matryoshka || [];
  if (stages.length) {
    y += 6;
    svg.append(el('text', { x: 0, y: y + 11, 'font-size': 12, 'font-weight': 700, fill: '#1d2733' }, 'Matryoshka stages (shortest prefix first)'));
    y += 18;
    const most = Math.max(1, ...stages.map((s) => s.candidates_in || 0));
    stages.forEach((s, i) => {
      const g = el('g', {
        'data-testid': 'mrl-stage', 'data-stage': i, 'data-dim': s.dim, 'data-path': s.path,
        'data-in': s.candidates_in, 'data-kept': s.kept, 'data-distances': s.distances_computed,
      });
      const wIn = Math.max(4, BAR_W * (s.candidates_in || 0) / most);
      const wKept = Math.max(2, BAR_W * (s.kept || 0) / most);
      g.append(el('text', { x: 0, y: y + 12, 'font-size': 12, fill: '#5b6b7c' }, `${i + 1}. dim ${s.dim} · ${s.path}`));
      g.append(el('rect', { x: BAR, y, width: wIn, height: 16, fill: '#e2d9f0' }));
      g.append(el('rect', { x: BAR, y, width: wKept, height: 16, fill: '#6b4fa0' }));
      g.append(el('text', { x: FIG, y: y + 12, 'font-size': 12, fill: '#1d2733' }, `${fmt(s.candidates_in)} in → ${fmt(s.kept)} kept, ${fmt(s.distances_computed)} distances`));
      svg.append(g);
      y += 20;
    });
  }
  svg.setAttribute('height', y + 4);
  svg.setAttribute('viewBox', `0 0 ${W} ${y + 4}`);
  return svg;
}
