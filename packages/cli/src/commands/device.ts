import { legacyMoveMessage, loadConfig, moveLegacyData } from '@fieldproof/config';
import { createDatabase, migrate } from '@fieldproof/db';
// The subpath, not the package: the identity without the keeper's tasks, chain code and ethers.
import { DeviceIdentityError, openDeviceIdentity } from '@fieldproof/keeper/device';
import { DeviceKeyError, formatKeyId } from '@fieldproof/note';
import type { Command } from '../command.js';

export const deviceCommand: Command = {
  usage: `fieldproof device [--json]

Prints what a verifier pins: the checkpoint origin and the device's Ed25519 verifier key
(<name>+<key id>+<base64 key>). Resolves the identity exactly as the keeper does — on a fresh device this
creates the key file (0600) and fixes origin and key in the database, so the key can be registered before
the keeper first runs. Never prints the private key.
  --json    one JSON object: origin, verifierKey, keyName, keyId, publicKey (base64), keySource, keyFile`,
  example: `FIELDPROOF_DATA_DIR=/var/lib/fieldproof fieldproof device --json`,
  options: { json: { type: 'boolean' } },
  async run({ values, env, cwd, stdout, stderr }) {
    const { config, secrets } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      await migrate(database);
      for (const move of moveLegacyData(config))
        stderr.write(`fieldproof device: ${legacyMoveMessage(move)}\n`);
      const device = await openDeviceIdentity({ database, config, secrets, now: Date.now });
      const keyFile = device.source.kind === 'file' ? device.source.path : undefined;
      if (values.json === true) {
        stdout.write(
          `${JSON.stringify({
            origin: device.origin,
            verifierKey: device.verifierKey,
            keyName: device.key.name,
            keyId: formatKeyId(device.key.keyId),
            publicKey: Buffer.from(device.key.publicKey).toString('base64'),
            keySource: device.source.kind,
            ...(keyFile === undefined ? {} : { keyFile }),
          })}\n`,
        );
      } else {
        stdout.write(`origin        ${device.origin}\n`);
        stdout.write(`verifier key  ${device.verifierKey}\n`);
        stdout.write(
          `key source    ${keyFile === undefined ? 'FIELDPROOF_DEVICE_KEY (secret store)' : `file ${keyFile}`}${
            device.source.kind === 'file' && device.source.created ? ' (created now)' : ''
          }\n`,
        );
      }
      return 0;
    } catch (err) {
      if (err instanceof DeviceIdentityError || err instanceof DeviceKeyError) {
        stderr.write(`fieldproof device: ${err.message}\n`);
        return 1;
      }
      throw err;
    } finally {
      await database.close();
    }
  },
};
