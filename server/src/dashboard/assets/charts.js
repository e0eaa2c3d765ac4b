// SVG charts of the analysis pages: the Matryoshka calibration as recall against cost, and the
// subset diagnostic's label counts. Every mark carries the API's numbers as data attributes
// (what the browser tests compare with the REST answer) and a <title> tooltip.
import { el, fmt } from './svg.js';

const SERIES = ['#3b82c4', '#6b4fa0', '#2f6f4f', '#b4482f', '#8a5a14', '#0f7c86', '#a0522d', '#5b6b7c'];

// Compact numbers for axis ticks: 1.2k, 35k, 4.1M.
function compact(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(2)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(2)}k`;
  return `${+v.toPrecision(2)}`;
}

// Log-scale ticks (1, 2, 5 per decade) between lo and hi.
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

export function drawCalibration(report) {
  const W = 900;
  const H = 440;
  const L = 70;
  const R = 190;
  const T = 24;
  const B = 56;
  const pw = W - L - R;
  const ph = H - T - B;
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-testid': 'calibration-svg' });
  const all = [...report.rows, report.exact];
  const costs = all.map((r) => r.cost).filter((c) => c > 0);
  const xlo = Math.min(...costs) / 1.5;
  const xhi = Math.max(...costs) * 1.5;
  const recalls = all.flatMap((r) => [r.recall]).concat([report.target_recall]);
  let ylo = Math.max(0, Math.floor(Math.min(...recalls) * 10) / 10);
  if (ylo >= 1) ylo = 0.9;
  const yhi = 1;
  const X = (c) => L + pw * (Math.log10(Math.max(c, xlo)) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo));
  const Y = (r) => T + ph * (1 - (r - ylo) / (yhi - ylo));

  // Grid and axes.
  for (const v of logTicks(xlo, xhi)) {
    svg.append(el('line', { x1: X(v), x2: X(v), y1: T, y2: T + ph, stroke: '#eef1f4' }));
    svg.append(el('text', { x: X(v), y: T + ph + 16, 'font-size': 11, 'text-anchor': 'middle', fill: '#5b6b7c' }, compact(v)));
  }
  const ystep = yhi - ylo > 0.5 ? 0.1 : 0.05;
  for (let v = ylo; v <= yhi + 1e-9; v += ystep) {
    svg.append(el('line', { x1: L, x2: L + pw, y1: Y(v), y2: Y(v), stroke: '#eef1f4' }));
    svg.append(el('text', { x: L - 8, y: Y(v) + 4, 'font-size': 11, 'text-anchor': 'end', fill: '#5b6b7c' }, v.toFixed(2)));
  }
  svg.append(el('rect', { x: L, y: T, width: pw, height: ph, fill: 'none', stroke: '#c3ccd5' }));
  svg.append(el('text', { x: L + pw / 2, y: H - 12, 'font-size': 12, 'text-anchor': 'middle', fill: '#1d2733' }, 'cost per query: vector components compared (log scale)'));
  svg.append(el('text', { x: 16, y: T + ph / 2, 'font-size': 12, 'text-anchor': 'middle', fill: '#1d2733', transform: `rotate(-90 16 ${T + ph / 2})` }, `mean recall@${report.k}`));

  // Target recall.
  const ty = Y(report.target_recall);
  svg.append(el('line', { x1: L, x2: L + pw, y1: ty, y2: ty, stroke: '#b4482f', 'stroke-dasharray': '6 4', 'data-testid': 'cal-target', 'data-recall': report.target_recall }));
  svg.append(el('text', { x: L + 6, y: ty - 5, 'font-size': 11, fill: '#b4482f' }, `target ${report.target_recall}`));

  // One series per first-stage prefix, points in oversample order. A point's "×oversample" label
  // is left out where it would overlap one already placed (settings of nearly equal cost and
  // recall); its tooltip still names it.
  const placed = [];
  const label = (x, y, text, fill) => {
    if (placed.some(([px, py]) => Math.abs(px - x) < 26 && Math.abs(py - y) < 11)) return;
    placed.push([x, y]);
    svg.append(el('text', { x, y, 'font-size': 9, fill, 'data-testid': 'cal-label' }, text));
  };
  const dims = [...new Set(report.rows.map((r) => r.dim))].sort((a, b) => a - b);
  dims.forEach((dim, i) => {
    const c = SERIES[i % SERIES.length];
    const rows = report.rows.filter((r) => r.dim === dim).sort((a, b) => a.oversample - b.oversample);
    svg.append(el('polyline', { points: rows.map((r) => `${X(r.cost)},${Y(r.recall)}`).join(' '), fill: 'none', stroke: c, 'stroke-width': 1.5 }));
    for (const r of rows) {
      const p = el('circle', {
        cx: X(r.cost), cy: Y(r.recall), r: 4.5, fill: c, 'data-testid': 'cal-point',
        'data-dim': r.dim, 'data-oversample': r.oversample, 'data-recall': r.recall, 'data-min-recall': r.min_recall,
        'data-cost': r.cost, 'data-distances': r.distances,
      });
      p.append(el('title', {}, `dim ${r.dim} × ${r.oversample}: recall ${r.recall.toFixed(4)} (min ${r.min_recall.toFixed(2)}), ${fmt(Math.round(r.cost))} components, ${fmt(Math.round(r.distances))} distances, ${fmt(Math.round(r.micros))} µs`));
      svg.append(p);
      label(X(r.cost) + 7, Y(r.recall) + 4, `×${r.oversample}`, c);
    }
    svg.append(el('rect', { x: L + pw + 16, y: T + 8 + i * 18, width: 12, height: 12, fill: c }));
    svg.append(el('text', { x: L + pw + 34, y: T + 18 + i * 18, 'font-size': 12, fill: '#1d2733' }, `prefix dim ${dim}`));
  });

  // The exact full-dimension baseline.
  const ex = report.exact;
  const ex0 = X(ex.cost);
  const ey0 = Y(ex.recall);
  const d = el('path', { d: `M${ex0} ${ey0 - 7} L${ex0 + 7} ${ey0} L${ex0} ${ey0 + 7} L${ex0 - 7} ${ey0} Z`, fill: '#1d2733', 'data-testid': 'cal-exact', 'data-dim': ex.dim, 'data-cost': ex.cost, 'data-recall': ex.recall });
  d.append(el('title', {}, `exact scan at dim ${ex.dim}: ${fmt(Math.round(ex.cost))} components per query`));
  svg.append(d);
  svg.append(el('text', { x: ex0 - 10, y: ey0 - 10, 'font-size': 11, 'text-anchor': 'end', fill: '#1d2733' }, `exact, dim ${ex.dim}`));
  const ly = T + 8 + dims.length * 18 + 8;
  svg.append(el('path', { d: `M${L + pw + 22} ${ly} L${L + pw + 28} ${ly + 6} L${L + pw + 22} ${ly + 12} L${L + pw + 16} ${ly + 6} Z`, fill: '#1d2733' }));
  svg.append(el('text', { x: L + pw + 34, y: ly + 10, 'font-size': 12, fill: '#1d2733' }, 'exact baseline'));

  // The recommendation: the cheapest setting reaching the target.
  const rec = report.recommended;
  if (rec) {
    svg.append(el('circle', { cx: X(rec.cost), cy: Y(rec.recall), r: 9, fill: 'none', stroke: '#b4482f', 'stroke-width': 2, 'data-testid': 'cal-recommended', 'data-dim': rec.dim, 'data-oversample': rec.oversample }));
    const speed = rec.cost > 0 ? ex.cost / rec.cost : 0;
    svg.append(el('text', { x: L + pw + 16, y: ly + 40, 'font-size': 12, 'font-weight': 700, fill: '#b4482f' }, 'recommended'));
    svg.append(el('text', { x: L + pw + 16, y: ly + 56, 'font-size': 12, fill: '#1d2733' }, `dim ${rec.dim}, oversample ${rec.oversample}`));
    svg.append(el('text', { x: L + pw + 16, y: ly + 72, 'font-size': 12, fill: '#1d2733' }, `recall ${rec.recall.toFixed(4)}`));
    svg.append(el('text', { x: L + pw + 16, y: ly + 88, 'font-size': 12, fill: '#1d2733' }, `${speed.toFixed(1)}× cheaper than exact`));
  } else {
    svg.append(el('text', { x: L + pw + 16, y: ly + 40, 'font-size': 12, fill: '#b4482f', 'data-testid': 'cal-none' }, 'no setting reaches the target'));
  }
  return svg;
}

const LABEL_COLOURS = {
  hit: '#2f6f4f', index_miss: '#3b82c4', encoder_gap: '#8a5a14', geometry_gap: '#b4482f', fragile: '#6b4fa0', undetermined: '#5b6b7c',
};
export const labelColour = (l) => LABEL_COLOURS[l] || '#5b6b7c';

// Queries per label as horizontal bars.
export function drawLabels(labels) {
  const entries = Object.entries(labels);
  const W = 520;
  const H = entries.length * 24 + 8;
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-testid': 'labels-svg' });
  const most = Math.max(1, ...entries.map(([, v]) => v));
  entries.forEach(([label, count], i) => {
    const y = 4 + i * 24;
    const g = el('g', { 'data-testid': 'label-bar', 'data-label': label, 'data-count': count });
    g.append(el('text', { x: 0, y: y + 13, 'font-size': 12, fill: '#1d2733' }, label));
    g.append(el('rect', { x: 120, y, width: Math.max(2, 320 * count / most), height: 16, rx: 2, fill: labelColour(label) }));
    g.append(el('text', { x: 128 + 320 * count / most, y: y + 13, 'font-size': 12, fill: '#1d2733' }, fmt(count)));
    svg.append(g);
  });
  return svg;
}
