import {
  COLLECTOR_MIGRATIONS_DIR,
  EnrollmentError,
  createCollectorDatabase,
  enrollDevice,
  insertOperatorKey,
  listDevices,
  revokeDevice,
  revokeOperatorKey,
} from '@fieldproof/collector';
import { loadCollectorConfig } from '@fieldproof/config';
import { createApiKeySecret, hashApiKey, migrate, newId } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const devicesCommand: Command = {
  usage: `fieldproof devices add --origin ORIGIN --key VKEY [--label TEXT] [--json]
      Enrolls a unit by what "fieldproof device" prints on it (origin and verifier key) and prints its
      push key ONCE (only its SHA-256 is stored); --json prints {"id","origin","key","createdAt"}.
      The push key goes into the unit's KEEPER_COLLECTORS apiKeyFile.
fieldproof devices list [--json]
      Lists enrolled units: origin, mirrored tree size, enrolled, revoked — never push keys.
fieldproof devices revoke ORIGIN
      Refuses the unit's pushes from now on; what was mirrored stays.
fieldproof devices console-key [--label TEXT] [--json]
      Creates an operator key for the collector's console (/console) and prints it ONCE (only its
      SHA-256 is stored); --json prints {"id","key","createdAt"}.
fieldproof devices console-revoke ID
      Revokes an operator key; every console session signed in with it ends at once.`,
  example: `fieldproof devices add --origin fieldproof.local/log/3f2a9c0d1e4b5a67 --key 'fieldproof.local/log/3f2a9c0d1e4b5a67+1a2b3c4d+AX…' --json`,
  options: {
    origin: { type: 'string' },
    key: { type: 'string' },
    label: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ positionals, values, env, cwd, stdout, stderr }) {
    const [sub, ...rest] = positionals;
    if (
      sub !== 'add' &&
      sub !== 'list' &&
      sub !== 'revoke' &&
      sub !== 'console-key' &&
      sub !== 'console-revoke'
    ) {
      throw new UsageError(
        sub === undefined
          ? 'missing sub-command (add, list, revoke, console-key or console-revoke)'
          : `unknown devices sub-command "${sub}"`,
      );
    }
    if (sub === 'add') {
      if (typeof values.origin !== 'string') throw new UsageError('--origin is required');
      if (typeof values.key !== 'string') throw new UsageError("--key is required (the unit's verifier key)");
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    }
    if (sub === 'revoke' && rest.length !== 1) throw new UsageError('revoke takes exactly one origin');
    if (sub === 'console-revoke' && rest.length !== 1)
      throw new UsageError('console-revoke takes exactly one key id');
    if (sub === 'console-key' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (sub === 'list' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const json = values.json === true;
    const config = loadCollectorConfig(env, cwd);
    const collector = createCollectorDatabase(config.database.target, {
      sqlite: config.database.sqlite,
      postgresPoolMax: 1,
    });
    try {
      await migrate(collector.database, { dir: COLLECTOR_MIGRATIONS_DIR });
      if (sub === 'add') {
        let enrolled;
        try {
          enrolled = await enrollDevice(collector, {
            origin: values.origin as string,
            verifierKey: values.key as string,
            ...(typeof values.label === 'string' ? { label: values.label } : {}),
            now: Date.now(),
          });
        } catch (err) {
          if (err instanceof EnrollmentError) {
            stderr.write(`fieldproof devices: ${err.message}\n`);
            return 1;
          }
          throw err;
        }
        if (json) {
          stdout.write(
            `${JSON.stringify({ id: enrolled.id, origin: enrolled.origin, key: enrolled.pushKey, createdAt: enrolled.createdAt })}\n`,
          );
        } else {
          stdout.write(
            `enrolled ${enrolled.origin}\n\n  ${enrolled.pushKey}\n\n` +
              "Put this push key into the unit's apiKeyFile now: it is not shown again.\n",
          );
        }
        return 0;
      }
      if (sub === 'list') {
        const devices = (await listDevices(collector.db)).map((d) => ({
          id: d.id,
          origin: d.origin,
          verifierKey: d.verifier_key,
          label: d.label,
          treeSize: d.tree_size,
          createdAt: d.created_at,
          revokedAt: d.revoked_at,
        }));
        if (json) stdout.write(`${JSON.stringify(devices)}\n`);
        else if (devices.length === 0)
          stdout.write('no devices enrolled (fieldproof devices add --origin … --key …)\n');
        else {
          for (const d of devices) {
            stdout.write(
              `${d.origin}  ${d.revokedAt === null ? 'active ' : 'revoked'}  ${String(d.treeSize).padStart(10)} leaves  ${new Date(d.createdAt).toISOString()}  ${d.label ?? ''}\n`,
            );
          }
        }
        return 0;
      }
      if (sub === 'console-key') {
        const key = createApiKeySecret();
        const id = newId();
        const createdAt = Date.now();
        await insertOperatorKey(collector.db, {
          id,
          keyHash: hashApiKey(key),
          label: typeof values.label === 'string' ? values.label : null,
          createdAt,
        });
        if (json) stdout.write(`${JSON.stringify({ id, key, createdAt })}\n`);
        else
          stdout.write(
            `operator key ${id}\n\n  ${key}\n\nSign in at the collector's /console with it; it is not shown again.\n`,
          );
        return 0;
      }
      if (sub === 'console-revoke') {
        if (await revokeOperatorKey(collector.db, rest[0]!, Date.now())) {
          stdout.write(`revoked operator key ${rest[0]}: its console sessions end now\n`);
          return 0;
        }
        stderr.write(`fieldproof devices: no live operator key ${rest[0]}\n`);
        return 1;
      }
      const origin = rest[0]!;
      if (await revokeDevice(collector.db, origin, Date.now())) {
        stdout.write(`revoked ${origin}: its pushes are refused from now on\n`);
        return 0;
      }
      stderr.write(`fieldproof devices: no active device ${origin} (see fieldproof devices list)\n`);
      return 1;
    } finally {
      await collector.close();
    }
  },
};
