// Creates (or loads) the device key at KEY_PATH, starting at START_AT (ms since epoch) so that several
// children race for the same missing file. Prints {"verifierKey": …} on success.
import { loadOrCreateDeviceKey } from '../../packages/note/dist/index.js';

const startAt = Number(process.env.START_AT ?? 0);
while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 1));
try {
  const key = await loadOrCreateDeviceKey(process.env.KEY_PATH, { name: process.env.KEY_NAME });
  process.stdout.write(JSON.stringify({ verifierKey: key.verifierKey }) + '\n');
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
}
