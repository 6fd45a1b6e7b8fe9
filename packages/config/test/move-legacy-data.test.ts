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

describe('moveLegacyData', () => {
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
