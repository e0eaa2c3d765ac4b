// DOM helpers shared by the pages: element builder, toast, JSON parsing, number formats, the
// collection picker and the chosen collection (kept in sessionStorage across pages).
import { call, enc } from './api.js';

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else if (k === 'text') e.textContent = v;
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export const fmt = (n) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'));

// Bytes as B / KiB / MiB / GiB with three significant digits.
export function bytes(n) {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return i === 0 ? `${v} B` : `${v.toPrecision(3)} ${units[i]}`;
}

export function toast(msg, err) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = err ? 'toast err' : 'toast';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

export async function guarded(f) {
  try { return await f(); } catch (e) { toast(e.message, true); return undefined; }
}

export function parseJson(textValue, what) {
  const s = textValue.trim();
  if (!s) return undefined;
  try { return JSON.parse(s); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}

// A point id typed by a user: an unsigned integer or a UUID string.
export function pointId(s) {
  const t = String(s).trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

export async function collectionNames() {
  const r = await call('GET', '/collections');
  return r.collections.map((c) => c.name).sort();
}

export function picker(names, current, onChange) {
  const sel = h('select', { id: 'collection', on: { change: () => onChange(sel.value) } },
    names.map((n) => h('option', { value: n, selected: n === current }, n)));
  return sel;
}

let chosen = sessionStorage.getItem('grove-collection') || '';
export function choose(names) {
  if (!names.includes(chosen)) chosen = names[0] || '';
  return chosen;
}
export function setChosen(n) { chosen = n; sessionStorage.setItem('grove-collection', n); }

// The stored vector of one point (the unnamed vector, or `using`).
export async function storedVector(collection, id, using) {
  const r = await call('POST', `/collections/${enc(collection)}/points`, { ids: [pointId(id)], with_vector: true, with_payload: false });
  if (!r.length) throw new Error(`no point ${id} in ${collection}`);
  const v = r[0].vector;
  if (Array.isArray(v)) return v;
  if (v && using !== undefined && Array.isArray(v[using])) return v[using];
  if (v && Array.isArray(v[''])) return v[''];
  throw new Error(`point ${id} has no dense vector${using ? ` named ${using}` : ''}`);
}
