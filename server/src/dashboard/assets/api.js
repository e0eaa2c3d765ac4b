// The REST client of the dashboard: every request carries the session's API key.
const KEY = 'grove-api-key';

export function getKey() { return sessionStorage.getItem(KEY) || ''; }
export function setKey(k) { if (k) sessionStorage.setItem(KEY, k); else sessionStorage.removeItem(KEY); }

function headers(json) {
  const h = {};
  const k = getKey();
  if (k) h['api-key'] = k;
  if (json) h['content-type'] = 'application/json';
  return h;
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function fail(r) {
  let msg = r.statusText;
  try { const b = await r.json(); msg = (b.status && b.status.error) || JSON.stringify(b); } catch (_) { /* not JSON */ }
  return new ApiError(r.status, `${r.status}: ${msg}`);
}

// Sends a JSON request and returns the envelope's `result`.
export async function call(method, path, body) {
  const r = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw await fail(r);
  const b = await r.json();
  return b.result;
}

export async function text(path) {
  const r = await fetch(path, { headers: headers(false) });
  if (!r.ok) throw await fail(r);
  return r.text();
}

export async function blob(path) {
  const r = await fetch(path, { headers: headers(false) });
  if (!r.ok) throw await fail(r);
  return r.blob();
}

// 'write', 'read', or throws (401 for a missing or wrong key).
export async function whoami() { return (await text('/dashboard/api/whoami')).trim(); }

export const enc = encodeURIComponent;
