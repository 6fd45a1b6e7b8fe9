import { verifyConsistency } from '@fieldproof/merkle';
import { openCheckpoint, type Checkpoint } from '@fieldproof/note/verify';
import { HASH_HEX, hashFromHex } from '../hex.js';
import { errorText, failed, ok, verification, type LinkVerdict, type Verification } from './verdict.js';

/**
 * Verifies that the log of `newCheckpointNote` extends that of `oldCheckpointNote` (the `verify
 * --consistency` command): both notes are signed by `publicKey` (a verifier key string), share their
 * origin, and `proof` (hashes as bytes or lowercase hex) is an RFC 9162 consistency proof from the old
 * tree to the new one. Links: `old-checkpoint`, `new-checkpoint`, `consistency`. Never throws.
 */
export function verifyConsistencyBetween(
  oldCheckpointNote: string,
  newCheckpointNote: string,
  proof: readonly (Uint8Array | string)[],
  publicKey: string,
): Verification {
  const older = open('old-checkpoint', oldCheckpointNote, publicKey);
  const newer = open('new-checkpoint', newCheckpointNote, publicKey);
  const links = [older.verdict, newer.verdict];
  if (older.checkpoint === undefined || newer.checkpoint === undefined) {
    return verification([...links, failed('consistency', 'not checked: a checkpoint did not verify')]);
  }
  return verification([...links, checkConsistency(older.checkpoint, newer.checkpoint, proof)]);
}

function open(
  link: string,
  note: string,
  publicKey: string,
): { verdict: LinkVerdict; checkpoint?: Checkpoint } {
  try {
    const { checkpoint } = openCheckpoint(note, publicKey);
    return {
      verdict: ok(link, `${checkpoint.origin} at tree size ${checkpoint.treeSize}, signed`),
      checkpoint,
    };
  } catch (err) {
    return { verdict: failed(link, errorText(err)) };
  }
}

/**
 * The `consistency` link between two checkpoints already opened (signatures checked by the caller):
 * same origin, and `proof` leads from the older tree to the newer one. Also a v2 receipt's `consistency`
 * step (docs/FORMATS.md §9.5).
 */
export function checkConsistency(
  older: Checkpoint,
  newer: Checkpoint,
  proof: readonly (Uint8Array | string)[],
): LinkVerdict {
  if (older.origin !== newer.origin) {
    return failed(
      'consistency',
      `different logs: ${JSON.stringify(older.origin)} and ${JSON.stringify(newer.origin)}`,
    );
  }
  const hashes: Uint8Array[] = [];
  for (const [i, hash] of proof.entries()) {
    if (typeof hash === 'string' && !HASH_HEX.test(hash)) {
      return failed('consistency', `proof[${i}] is not 64 lowercase hex digits`);
    }
    hashes.push(typeof hash === 'string' ? hashFromHex(hash) : hash);
  }
  const { treeSize: size1 } = older;
  const { treeSize: size2 } = newer;
  if (size1 === 0 && hashes.length === 0) {
    return ok('consistency', `the empty tree is a prefix of every tree (size ${size2})`);
  }
  try {
    verifyConsistency(size1, size2, hashes, older.root, newer.root);
  } catch (err) {
    return failed('consistency', `tree ${size2} does not extend tree ${size1}: ${errorText(err)}`);
  }
  return ok('consistency', `tree ${size2} extends tree ${size1}: the log only appended`);
}
