// The result model (rows: a figure, its peer or ceiling measured in the same run, their ratio, the target)
// and its two renderings: a plain-text table for stdout and a JSON document.
import fs from 'node:fs';
import path from 'node:path';

/**
 * @typedef {object} Row
 * @property {string} section
 * @property {string} measure         what fieldproof did
 * @property {number | undefined} value
 * @property {string} unit
 * @property {string} [text]          how to print the value, when not `value unit`
 * @property {string} [peer]          the ceiling or peer it is compared with
 * @property {number} [peerValue]
 * @property {string} [peerUnit]      when it differs from `unit`
 * @property {string} [peerText]
 * @property {number} [ratio]         value ÷ peerValue (or as `ratioOf` says)
 * @property {string} [target]
 * @property {boolean} [met]
 * @property {string} [note]
 */

export class Report {
  /** @type {Row[]} */
  rows = [];
  /** @type {Record<string, unknown>} */
  details = {};
  /** @type {string[]} */
  errors = [];

  /** @param {Row} row */
  add(row) {
    this.rows.push(row);
    return row;
  }

  /** Records a section that failed, so that the others still report. */
  fail(section, err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.errors.push(`${section}: ${message}`);
    this.rows.push({ section, measure: 'FAILED (see errors below)', value: undefined, unit: '' });
  }
}

/** value ÷ peer, undefined when either is missing or the peer is 0. */
export function ratio(value, peer) {
  if (value === undefined || peer === undefined || peer === 0) return undefined;
  return value / peer;
}

/** A number for humans: 3 significant digits below 1000, thousands separators above. */
export function fmt(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  const a = Math.abs(n);
  if (a === 0) return '0';
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a >= 0.01) return n.toFixed(3);
  return n.toPrecision(2);
}

function withUnit(value, unit) {
  const v = fmt(value);
  return unit === '' || v === '—' ? v : `${v} ${unit}`;
}

/** The table as text lines. */
export function renderTable(report) {
  const header = ['section', 'measure', 'fieldproof', 'peer / ceiling', 'peer', 'ratio', 'target', 'met'];
  const lines = report.rows.map((r) => [
    r.section,
    r.measure,
    r.text ?? withUnit(r.value, r.unit),
    r.peer ?? '',
    r.peerText ?? (r.peerValue === undefined ? '' : withUnit(r.peerValue, r.peerUnit ?? r.unit)),
    r.ratio === undefined ? '' : `${fmt(r.ratio)}×`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 2 || i === 4 || i === 5 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  let previous = '';
  for (const [i, l] of lines.entries()) {
    if (report.rows[i].section !== previous && i > 0) out.push('');
    previous = report.rows[i].section;
    out.push(line(l));
  }
  const notes = report.rows.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    out.push('', 'notes:');
    for (const r of notes) out.push(`  ${r.section} / ${r.measure}: ${r.note}`);
  }
  return out;
}

/** Writes the JSON document (creating its folder) and returns its path. */
export function writeJson(file, document) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}
