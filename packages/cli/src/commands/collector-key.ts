import { fleetVerifierKey, openWitness } from '@fieldproof/collector';
import { loadCollectorConfig } from '@fieldproof/config';
import { DeviceKeyError, formatKeyId } from '@fieldproof/note';
import type { Command } from '../command.js';

export const collectorKeyCommand: Command = {
  usage: `fieldproof collector-key [--json]

Prints the key units and verifiers pin to check this collector's cosignatures (the KEEPER_COLLECTORS
"witnessKey"): <name>+<key id>+<base64(0x04 ‖ public key)>. Opens COLLECTOR_WITNESS_KEY_FILE as the
collector does — on a fresh collector this creates it (0600). Never prints the private key.
Also prints the fleet key: the same key as a note signer (type 0x01), which signs the fleet log's
checkpoints when fleet anchoring is on (the KEEPER_COLLECTORS "fleetKey", docs/COLLECTOR.md).
  --json    one JSON object: name, verifierKey, keyId, publicKey (base64), keyFile, fleetKey`,
  example: 'COLLECTOR_DATA_DIR=/var/lib/fieldproof-collector fieldproof collector-key --json',
  options: { json: { type: 'boolean' } },
  async run({ values, env, cwd, stdout, stderr }) {
    const config = loadCollectorConfig(env, cwd);
    try {
      const cosigner = await openWitness(config.witness.keyFile, config.witness.name);
      if (values.json === true) {
        stdout.write(
          `${JSON.stringify({
            name: cosigner.name,
            verifierKey: cosigner.verifierKey,
            keyId: formatKeyId(cosigner.keyId),
            publicKey: Buffer.from(cosigner.publicKey).toString('base64'),
            keyFile: config.witness.keyFile,
            fleetKey: await fleetVerifierKey(config.witness.keyFile, config.witness.name),
          })}\n`,
        );
      } else {
        const fleetKey = await fleetVerifierKey(config.witness.keyFile, config.witness.name);
        stdout.write(
          `witness key  ${cosigner.verifierKey}\nfleet key    ${fleetKey}\nkey file     ${config.witness.keyFile}\n`,
        );
      }
      return 0;
    } catch (err) {
      if (err instanceof DeviceKeyError) {
        stderr.write(`fieldproof collector-key: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
