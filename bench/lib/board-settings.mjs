// The small-board settings the benchmark runs the api and the keeper with — read from the files that ship
// them, so that what is measured is exactly what a unit runs: the node flags on ExecStart= and
// MemoryHigh=/MemoryMax= of deploy/arm64/fieldproof-{api,keeper}.service, and API_DOCS from the env
// template the installer copies to /etc/fieldproof/fieldproof.env.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './processes.mjs';

const UNITS = path.join(ROOT, 'deploy/arm64');

/** @param {'api' | 'keeper'} name */
export function unitSettings(name) {
  const text = fs.readFileSync(path.join(UNITS, `fieldproof-${name}.service`), 'utf8');
  const exec = /^ExecStart=(\S+)\s+(.*)$/m.exec(text);
  if (exec === null) throw new Error(`fieldproof-${name}.service: no ExecStart= line`);
  const words = exec[2].trim().split(/\s+/);
  const nodeArgs = words.filter((w) => w.startsWith('--'));
  const memory = (key) => /^(\S+)$/.exec(new RegExp(`^${key}=(\\S+)$`, 'm').exec(text)?.[1] ?? '')?.[1];
  return { nodeArgs, memoryHigh: memory('MemoryHigh'), memoryMax: memory('MemoryMax') };
}

/** Settings of the env template that change what a process loads (API_DOCS). */
export function templateEnv() {
  const text = fs.readFileSync(path.join(UNITS, 'fieldproof.env.example'), 'utf8');
  const docs = /^API_DOCS=(\S+)$/m.exec(text)?.[1];
  return docs === undefined ? {} : { API_DOCS: docs };
}

/** "192M" → bytes. */
export function systemdBytes(value) {
  const m = /^(\d+)([KMGT]?)$/.exec(value ?? '');
  if (m === null) return undefined;
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] === '' ? ' ' : m[2]);
}
