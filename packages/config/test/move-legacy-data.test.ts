import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LegacyDataConflictError, loadConfig, moveLegacyData } from '@fieldproof/config';
import { tempDir } from '../../../test/support/databases.js';

/** A database folder laid out the old way: key, content and backups beside the database. */
function oldLayout(): string {
  const dir = tempDir('fieldproof-legacy-');
  fs.writeFileSync(path.join(dir, 'device.key'), 'PRIVATE+KEY+old\n', { mode: 0o600 });
  fs.mkdirSync(path.join(dir, 'content', 'ab', 'cd'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'content', 'ab', 'cd', 'abcd1'), 'one');
  return dir;
}

const configIn = (dir: string, env: Record<string, string> = {}) => loadConfig(env, dir).config;

const CONFIG_DIST = new URL('../dist/index.js', import.meta.url).href;

/**
 * Starts moveLegacyData in two child processes in `cwd` at the same moment (each loads the built package
 * first, then waits for the word on stdin); resolves to their exit codes and stderr.
 */
async function moveInTwoChildren(cwd: string): Promise<{ code: number | null; out: string }[]> {
  const script = `const { loadConfig, moveLegacyData } = await import(${JSON.stringify(CONFIG_DIST)});
const config = loadConfig({}, process.cwd()).config;
process.stdout.write('ready\\n');
process.stdin.once('data', () => { moveLegacyData(config); process.exit(0); });`;
  const children = [0, 1].map(() =>
    spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, stdio: 'pipe' }),
  );
  const results = children.map(
    (child) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        let out = '';
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code, out }));
      }),
  );
  await Promise.all(children.map((child) => new Promise((resolve) => child.stdout.once('data', resolve))));
  for (const child of children) child.stdin.write('go\n');
  return Promise.all(results);
}

describe('moveLegacyData', () => {
  it('api and keeper moving at the same time both succeed, and everything arrives once', async () => {
    const dir = oldLayout();
    for (let i = 0; i < 300; i++) {
      const name = `ab${i.toString(16).padStart(4, '0')}`;
      fs.mkdirSync(path.join(dir, 'content', name.slice(0, 2), name.slice(2, 4)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'content', name.slice(0, 2), name.slice(2, 4), name), name);
    }
    // An existing new content folder forces the file-by-file merge, where the two can meet.
    fs.mkdirSync(path.join(dir, 'fieldproof-data', 'content', 'zz'), { recursive: true });
    const results = await moveInTwoChildren(dir);
    expect(results).toEqual([
      { code: 0, out: '' },
      { code: 0, out: '' },
    ]);
    const data = path.join(dir, 'fieldproof-data');
    expect(fs.readFileSync(path.join(data, 'device.key'), 'utf8')).toBe('PRIVATE+KEY+old\n');
    const files = (fs.readdirSync(path.join(data, 'content'), { recursive: true }) as string[]).filter((f) =>
      fs.statSync(path.join(data, 'content', f)).isFile(),
    );
    expect(files).toHaveLength(301);
    expect(fs.readdirSync(dir).filter((n) => !n.endsWith('.sqlite3'))).toEqual(['fieldproof-data']);
  });

  it('moves key and content into fieldproof-data/, once; a second run (the other process) finds nothing', () => {
    const dir = oldLayout();
    const config = configIn(dir);
    expect(moveLegacyData(config).map((m) => [m.name, m.outcome])).toEqual([
      ['device.key', 'moved'],
      ['content', 'moved'],
    ]);
    expect(fs.readFileSync(path.join(dir, 'fieldproof-data', 'device.key'), 'utf8')).toBe(
      'PRIVATE+KEY+old\n',
    );
    expect(fs.statSync(path.join(dir, 'fieldproof-data', 'device.key')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(dir, 'device.key'))).toBe(false);
    expect(moveLegacyData(config)).toEqual([]);
  });

  it('merges content into an existing content folder and drops an identical duplicate key', () => {
    const dir = oldLayout();
    const data = path.join(dir, 'fieldproof-data');
    fs.mkdirSync(path.join(data, 'content', 'ab', 'cd'), { recursive: true });
    fs.writeFileSync(path.join(data, 'content', 'ab', 'cd', 'abcd2'), 'two');
    fs.writeFileSync(path.join(data, 'device.key'), 'PRIVATE+KEY+old\n', { mode: 0o600 });
    expect(moveLegacyData(configIn(dir)).map((m) => m.outcome)).toEqual(['duplicate-removed', 'moved']);
    expect(fs.readdirSync(path.join(data, 'content', 'ab', 'cd')).sort()).toEqual(['abcd1', 'abcd2']);
    expect(fs.readdirSync(dir).filter((n) => !n.endsWith('.sqlite3'))).toEqual(['fieldproof-data']);
  });

  it('refuses two different keys rather than pick one', () => {
    const dir = oldLayout();
    fs.mkdirSync(path.join(dir, 'fieldproof-data'));
    fs.writeFileSync(path.join(dir, 'fieldproof-data', 'device.key'), 'PRIVATE+KEY+new\n', { mode: 0o600 });
    expect(() => moveLegacyData(configIn(dir))).toThrow(LegacyDataConflictError);
    expect(fs.readFileSync(path.join(dir, 'device.key'), 'utf8')).toBe('PRIVATE+KEY+old\n'); // both kept
  });

  it('leaves everything alone when FIELDPROOF_DATA_DIR or FIELDPROOF_DEVICE_KEY_FILE says where things are', () => {
    const dir = oldLayout();
    expect(moveLegacyData(configIn(dir, { FIELDPROOF_DATA_DIR: dir }))).toEqual([]);
    const moves = moveLegacyData(configIn(dir, { FIELDPROOF_DEVICE_KEY_FILE: path.join(dir, 'device.key') }));
    expect(moves.map((m) => m.name)).toEqual(['content']);
    expect(fs.existsSync(path.join(dir, 'device.key'))).toBe(true);
  });
});
