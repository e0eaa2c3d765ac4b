// SVG helpers shared by the charts: element builder, word wrap, number format.
const NS = 'http://www.w3.org/2000/svg';

export function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export const fmt = (n) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'));

// Splits text into lines of at most `width` characters at spaces.
export function wrap(text, width) {
  const out = [];
  let line = '';
  for (const w of String(text).split(/\s+/)) {
    if (line && (line + ' ' + w).length > width) { out.push(line); line = w; } else line = line ? line + ' ' + w : w;
  }
  if (line) out.push(line);
  return out;
}
