// Draws a query's Explain record as inline SVG: the path and its reason, a selectivity bar,
// allowed vs live points, the work done, and the Matryoshka stages when present.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (n) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'));
const PATH_COLOURS = { exact: '#2f6f4f', hnsw: '#3b82c4', filtered_hnsw: '#3b82c4', acorn1: '#8a5a14', acorn_gamma: '#a0522d' };

function colour(path) {
  const p = String(path).toLowerCase();
  for (const [k, c] of Object.entries(PATH_COLOURS)) if (p.includes(k)) return c;
  if (p.includes('acorn')) return '#8a5a14';
  if (p.includes('matryoshka')) return '#6b4fa0';
  return '#5b6b7c';
}

// Splits text into lines of at most `width` characters at spaces.
function wrap(text, width) {
  const out = [];
  let line = '';
  for (const w of String(text).split(/\s+/)) {
    if (line && (line + ' ' + w).length > width) { out.push(line); line = w; } else line = line ? line + ' ' + w : w;
  }
  if (line) out.push(line);
  return out;
}

export function drawExplain(ex) {
  const W = 760;
  const svg = el('svg', { width: W, viewBox: `0 0 ${W} 10`, role: 'img', 'data-testid': 'explain-svg' });
  let y = 0;
  // Path chosen and reason.
  svg.append(el('rect', { x: 0, y, width: 150, height: 30, rx: 5, fill: colour(ex.path) }));
  svg.append(el('text', { x: 75, y: y + 20, 'text-anchor': 'middle', fill: '#fff', 'font-size': 14, 'font-weight': 700, 'data-testid': 'explain-path' }, ex.path));
  const lines = wrap(ex.reason || '', 88);
  lines.forEach((l, i) => svg.append(el('text', { x: 165, y: y + 13 + i * 15, 'font-size': 12, fill: '#1d2733' }, l)));
  y += Math.max(36, lines.length * 15 + 8) + 8;

  // Selectivity bar: allowed / live.
  const live = Math.max(ex.live_points || 0, 1);
  const frac = Math.min(1, (ex.allowed_points || 0) / live);
  svg.append(el('text', { x: 0, y: y + 12, 'font-size': 12, fill: '#5b6b7c' }, 'selectivity'));
  svg.append(el('rect', { x: 110, y, width: 520, height: 16, rx: 3, fill: '#e6ebef' }));
  svg.append(el('rect', { x: 110, y, width: Math.max(1, 520 * frac), height: 16, rx: 3, fill: '#3b82c4' }));
  svg.append(el('text', { x: 640, y: y + 12, 'font-size': 12, fill: '#1d2733' }, `${(100 * (ex.selectivity || 0)).toFixed(2)} %`));
  y += 22;
  svg.append(el('text', { x: 110, y: y + 10, 'font-size': 12, fill: '#1d2733' }, `${fmt(ex.allowed_points)} allowed of ${fmt(ex.live_points)} live points`));
  y += 22;

  // Work done: bars on a shared log scale.
  const work = [
    ['nodes visited', ex.nodes_visited],
    ['distances computed', ex.distances_computed],
    ['unindexed scanned', ex.unindexed_scanned],
  ];
  if (ex.filter) work.push(['payloads scanned', ex.filter.payloads_scanned]);
  const top = Math.log10(Math.max(10, ...work.map(([, v]) => v || 0), ex.live_points || 0) + 1);
  for (const [name, v] of work) {
    const w = v ? Math.max(2, 520 * Math.log10(v + 1) / top) : 0;
    svg.append(el('text', { x: 0, y: y + 11, 'font-size': 12, fill: '#5b6b7c' }, name));
    svg.append(el('rect', { x: 110, y: y + 1, width: w, height: 12, rx: 2, fill: '#8fb9a3' }));
    svg.append(el('text', { x: 118 + w, y: y + 11, 'font-size': 12, fill: '#1d2733' }, fmt(v)));
    y += 18;
  }
  if (ex.ef !== null && ex.ef !== undefined) {
    svg.append(el('text', { x: 0, y: y + 11, 'font-size': 12, fill: '#5b6b7c' }, `ef = ${ex.ef}`));
    y += 18;
  }
  if (ex.filter) {
    const f = ex.filter;
    const idx = f.indexed_fields.length ? f.indexed_fields.join(', ') : 'none';
    const un = f.unindexed_fields.length ? f.unindexed_fields.join(', ') : 'none';
    svg.append(el('text', { x: 0, y: y + 11, 'font-size': 12, fill: '#5b6b7c' }, `filter: ${fmt(f.cardinality)} matches; indexed: ${idx}; unindexed: ${un}; ${fmt(f.micros)} µs`));
    y += 20;
  }

  // Matryoshka funnel: one box per stage, width by candidates in, kept shaded.
  const stages = ex.matryoshka || [];
  if (stages.length) {
    y += 6;
    svg.append(el('text', { x: 0, y: y + 11, 'font-size': 12, 'font-weight': 700, fill: '#1d2733' }, 'Matryoshka stages'));
    y += 18;
    const most = Math.max(...stages.map((s) => s.candidates_in || 1));
    for (const s of stages) {
      const wIn = Math.max(4, 520 * (s.candidates_in || 0) / most);
      const wKept = Math.max(2, 520 * (s.kept || 0) / most);
      svg.append(el('text', { x: 0, y: y + 12, 'font-size': 12, fill: '#5b6b7c' }, `dim ${s.dim} (${s.path})`));
      svg.append(el('rect', { x: 110, y, width: wIn, height: 16, fill: '#e2d9f0' }));
      svg.append(el('rect', { x: 110, y, width: wKept, height: 16, fill: '#6b4fa0' }));
      svg.append(el('text', { x: 118 + wIn, y: y + 12, 'font-size': 12, fill: '#1d2733' }, `${fmt(s.candidates_in)} in, ${fmt(s.kept)} kept, ${fmt(s.distances_computed)} distances`));
      y += 20;
    }
  }
  svg.setAttribute('height', y + 4);
  svg.setAttribute('viewBox', `0 0 ${W} ${y + 4}`);
  return svg;
}
