import { createCosigner, loadOrCreateDeviceKey } from '@fieldproof/note';
import type { Cosigner } from '@fieldproof/note';

/**
 * The collector's witness key: an Ed25519 key in the device key file format (`PRIVATE+KEY+…`, created
 * 0600 on first start by the same code as a unit's device key), used only for cosignature/v1 — under its
 * own key id (type 0x04), never to sign notes.
 */
export async function openWitness(keyFile: string, name: string): Promise<Cosigner> {
  return createCosigner(await loadOrCreateDeviceKey(keyFile, { name }));
}

/**
 * The fleet log's note verifier key (type 0x01): with fleet anchoring the collector signs its fleet
 * checkpoints with the witness key under the key's own name (docs/COLLECTOR.md "Fleet anchoring"). What
 * units pin as a KEEPER_COLLECTORS entry's `fleetKey`.
 */
export async function fleetVerifierKey(keyFile: string, name: string): Promise<string> {
  return (await loadOrCreateDeviceKey(keyFile, { name })).verifierKey;
}
