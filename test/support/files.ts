import fs from 'node:fs';
import path from 'node:path';

/** Writes `value` to `dir/name` (text and bytes as they are, anything else as indented JSON); the path. */
export function writeFileIn(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  const data =
    typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value, null, 2);
  fs.writeFileSync(file, data);
  return file;
}
