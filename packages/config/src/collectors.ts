import fs from 'node:fs';
import path from 'node:path';
import { parseCosignerKey, parseVerifierKey } from '@fieldproof/note';
import { ConfigError } from './config-error.js';

/** One fleet collector the keeper pushes this unit's log to (an element of KEEPER_COLLECTORS). */
export interface CollectorTarget {
  /** Short unique name, used in the unit's push state, logs and metrics. */
  readonly name: string;
  /** Base URL of the collector (`http(s)://host:port`, no trailing path). */
  readonly url: string;
  /** The file holding this unit's push key (printed by `fieldproof devices add`); must be 0600. */
  readonly apiKeyFile: string;
  /** The collector's cosignature verifier key (`fieldproof collector-key`): cosignatures must verify under it. */
  readonly witnessKey: string;
  /**
   * The collector's fleet-log verifier key (a note verifier key, `fieldproof collector-key`), when the
   * collector anchors a fleet log: the keeper then fetches this unit's fleet proofs from it, and every
   * fleet checkpoint must be signed by this key. Undefined: no fleet proofs from this collector.
   */
  readonly fleetKey: string | undefined;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const FIELDS = new Set(['name', 'url', 'apiKeyFile', 'witnessKey', 'fleetKey']);
const VAR = 'KEEPER_COLLECTORS';

/**
 * Parses KEEPER_COLLECTORS: a JSON array of `{name, url, apiKeyFile, witnessKey, fleetKey?}`, or `@path`
 * to a file holding one (as KEEPER_CHAINS). Each apiKeyFile must exist and be readable by its owner only
 * (0600, like the signer key); each witnessKey must parse as a cosignature/v1 verifier key, each fleetKey
 * as an Ed25519 note verifier key.
 */
export function parseCollectors(value: string | undefined, cwd: string): CollectorTarget[] {
  if (value === undefined || value.trim() === '') return [];
  let text = value.trim();
  if (text.startsWith('@')) {
    const file = path.resolve(cwd, text.slice(1));
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(VAR, `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(
      VAR,
      'is not valid JSON (expected an array of {name, url, apiKeyFile, witnessKey})',
    );
  }
  if (!Array.isArray(parsed)) throw new ConfigError(VAR, 'must be a JSON array');
  const collectors = parsed.map((c, i) => parseCollector(c, i, cwd));
  const names = new Set<string>();
  for (const c of collectors) {
    if (names.has(c.name)) throw new ConfigError(VAR, `collector name "${c.name}" appears twice`);
    names.add(c.name);
  }
  return collectors;
}

function parseCollector(raw: unknown, i: number, cwd: string): CollectorTarget {
  const where = `${VAR}[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(where, 'must be an object');
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!FIELDS.has(key)) throw new ConfigError(where, `unknown field "${key}"`);
  }
  if (typeof c.name !== 'string' || !NAME.test(c.name)) {
    throw new ConfigError(where, 'name must be 1-32 of a-z 0-9 _ - (starting with a letter or digit)');
  }
  if (typeof c.url !== 'string' || !/^https?:\/\/[^/]/.test(c.url)) {
    throw new ConfigError(where, 'url must be an http:// or https:// URL');
  }
  try {
    new URL(c.url);
  } catch {
    throw new ConfigError(where, 'url must be an http:// or https:// URL');
  }
  if (typeof c.apiKeyFile !== 'string' || c.apiKeyFile.trim() === '') {
    throw new ConfigError(where, 'apiKeyFile must name the file holding the push key');
  }
  const apiKeyFile = path.resolve(cwd, c.apiKeyFile);
  let mode: number;
  try {
    mode = fs.statSync(apiKeyFile).mode & 0o777;
  } catch (err) {
    throw new ConfigError(where, `apiKeyFile: cannot read ${apiKeyFile}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      where,
      `apiKeyFile ${apiKeyFile} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`,
    );
  }
  if (typeof c.witnessKey !== 'string') {
    throw new ConfigError(
      where,
      "witnessKey must be the collector's verifier key (fieldproof collector-key)",
    );
  }
  try {
    parseCosignerKey(c.witnessKey);
  } catch (err) {
    throw new ConfigError(where, `witnessKey is not a cosignature verifier key: ${(err as Error).message}`);
  }
  if (c.fleetKey !== undefined) {
    if (typeof c.fleetKey !== 'string') {
      throw new ConfigError(
        where,
        "fleetKey must be the collector's fleet verifier key (fieldproof collector-key)",
      );
    }
    try {
      parseVerifierKey(c.fleetKey);
    } catch (err) {
      throw new ConfigError(where, `fleetKey is not a note verifier key: ${(err as Error).message}`);
    }
  }
  return Object.freeze({
    name: c.name,
    url: c.url.replace(/\/+$/, ''),
    apiKeyFile,
    witnessKey: c.witnessKey,
    fleetKey: c.fleetKey,
  });
}
