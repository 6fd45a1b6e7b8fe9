import { verifyInclusion } from '@fieldproof/merkle';
import {
  InvalidSignatureError,
  UnverifiedNoteError,
  createNoteVerifier,
  formatKeyId,
  openNote,
  parseCheckpoint,
  parseSignedNote,
  type Checkpoint,
  type NoteVerifier,
} from '@fieldproof/note/verify';
import { canonicalJsonBytes, sha256Hex } from '../json/canonical-json.js';
import { LEAF_FORMAT, leafHashOf } from '../leaf/encode-leaf-data.js';
import { bytesEqual, hashFromHex, toHex } from '../hex.js';
import type { Receipt } from '../receipt/receipt.js';
import { errorText, failed, ok, unchecked, type LinkVerdict } from './verdict.js';

/** content → digest: the given bytes hash to `evidence.digest` (raw, or as RFC 8785 canonical JSON). */
export function checkContent(receipt: Receipt, content: Uint8Array | undefined): LinkVerdict {
  const { digest } = receipt.evidence;
  if (content === undefined)
    return unchecked('content', 'no content given: the record content was not compared');
  const raw = sha256Hex(content);
  if (raw === digest) return ok('content', `SHA-256 of the content is the evidence digest ${digest}`);
  // A JSON payload's digest is that of its canonical form (RFC 8785), not of whatever bytes hold it.
  const canonical = canonicalDigest(content);
  if (canonical === digest) {
    return ok('content', `SHA-256 of the content's RFC 8785 canonical JSON is the evidence digest ${digest}`);
  }
  return failed('content', `SHA-256 of the content is ${raw}, the evidence digest is ${digest}`);
}

function canonicalDigest(content: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(content);
    return sha256Hex(canonicalJsonBytes(JSON.parse(text) as unknown));
  } catch {
    return undefined;
  }
}

/**
 * evidence → leaf hash: rebuilds the leaf hash from the evidence fields. `receipt.leaf.leafHash` is
 * never trusted, only compared: the recomputed hash is what the inclusion link uses.
 */
export function checkLeaf(receipt: Receipt): { verdict: LinkVerdict; leafHash?: Uint8Array } {
  let leafHash: Uint8Array;
  try {
    leafHash = leafHashOf(receipt.evidence);
  } catch (err) {
    return { verdict: failed('leaf', `the evidence cannot be encoded as a leaf: ${errorText(err)}`) };
  }
  const computed = toHex(leafHash);
  const verdict =
    computed === receipt.leaf.leafHash
      ? ok(
          'leaf',
          `leaf hash ${computed} rebuilt from the evidence (${receipt.evidence.leafFormat ?? LEAF_FORMAT})`,
        )
      : failed(
          'leaf',
          `leaf hash rebuilt from the evidence is ${computed}, the receipt says ${receipt.leaf.leafHash}`,
        );
  return { verdict, leafHash };
}

/** leaf hash → root: the inclusion proof leads from the rebuilt leaf hash to the checkpoint root. */
export function checkInclusion(receipt: Receipt, leafHash: Uint8Array | undefined): LinkVerdict {
  const { leafIndex } = receipt.leaf;
  const { treeSize, proof } = receipt.inclusion;
  if (leafHash === undefined) return failed('inclusion', 'no leaf hash: the evidence could not be encoded');
  if (treeSize !== receipt.checkpoint.treeSize) {
    return failed(
      'inclusion',
      `proof is for tree size ${treeSize}, the checkpoint is of size ${receipt.checkpoint.treeSize}`,
    );
  }
  try {
    verifyInclusion(
      leafIndex,
      treeSize,
      leafHash,
      proof.map(hashFromHex),
      hashFromHex(receipt.checkpoint.root),
    );
  } catch (err) {
    return failed('inclusion', `leaf ${leafIndex} is not proven in tree ${treeSize}: ${errorText(err)}`);
  }
  return ok(
    'inclusion',
    `leaf ${leafIndex} is in the tree of size ${treeSize} with root ${receipt.checkpoint.root}`,
  );
}

/**
 * checkpoint: the note parses as a C2SP checkpoint whose origin, size and root are the receipt's, and
 * the tree holds the leaf. Returns the parsed checkpoint for the anchor links.
 */
export function checkCheckpoint(receipt: Receipt): { verdict: LinkVerdict; checkpoint?: Checkpoint } {
  const fields = receipt.checkpoint;
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseSignedNote(fields.note).text);
  } catch (err) {
    return { verdict: failed('checkpoint', errorText(err)) };
  }
  const mismatches: string[] = [];
  if (checkpoint.origin !== fields.origin) {
    mismatches.push(`origin ${JSON.stringify(checkpoint.origin)} ≠ ${JSON.stringify(fields.origin)}`);
  }
  if (checkpoint.treeSize !== fields.treeSize)
    mismatches.push(`tree size ${checkpoint.treeSize} ≠ ${fields.treeSize}`);
  if (!bytesEqual(checkpoint.root, hashFromHex(fields.root))) {
    mismatches.push(`root ${toHex(checkpoint.root)} ≠ ${fields.root}`);
  }
  if (mismatches.length > 0) {
    return {
      verdict: failed('checkpoint', `the signed note says ${mismatches.join(', ')} (receipt fields)`),
    };
  }
  if (receipt.leaf.leafIndex >= checkpoint.treeSize) {
    return {
      verdict: failed(
        'checkpoint',
        `tree size ${checkpoint.treeSize} does not cover leaf ${receipt.leaf.leafIndex}`,
      ),
    };
  }
  return {
    verdict: ok(
      'checkpoint',
      `${checkpoint.origin} at tree size ${checkpoint.treeSize}, root ${fields.root}`,
    ),
    checkpoint,
  };
}

/**
 * signature: the note is signed by the device key (and that key is `expectedPublicKey` when given).
 * Signatures by other keys (witnesses) are ignored, as C2SP signed-note requires.
 */
export function checkSignature(receipt: Receipt, expectedPublicKey: string | undefined): LinkVerdict {
  return checkNoteSignature(receipt.checkpoint.note, receipt.device.publicKey, expectedPublicKey);
}

/**
 * The `signature` link of either receipt format: `note` is signed by `publicKey` (and that key is
 * `expectedPublicKey` when given); other keys' signatures are ignored.
 */
export function checkNoteSignature(
  note: string,
  publicKey: string,
  expectedPublicKey: string | undefined,
): LinkVerdict {
  let device: NoteVerifier;
  try {
    device = createNoteVerifier(publicKey);
  } catch (err) {
    return failed('signature', `device public key: ${errorText(err)}`);
  }
  const id = `${device.name}+${formatKeyId(device.keyId)}`;
  if (expectedPublicKey !== undefined) {
    try {
      createNoteVerifier(expectedPublicKey);
    } catch (err) {
      return failed('signature', `expected public key: ${errorText(err)}`);
    }
    // Verifier key strings have one valid spelling (strict base64, lowercase hex), so equal keys are equal strings.
    if (expectedPublicKey !== publicKey) {
      return failed(
        'signature',
        `the receipt's device key ${id} is not the expected key ${expectedPublicKey}`,
      );
    }
  }
  try {
    openNoteOnce(note, publicKey, device);
  } catch (err) {
    if (err instanceof UnverifiedNoteError)
      return failed('signature', `the note carries no signature by ${id}`);
    if (err instanceof InvalidSignatureError)
      return failed('signature', `the signature by ${id} does not verify`);
    return failed('signature', errorText(err));
  }
  return expectedPublicKey === undefined
    ? ok('signature', `signed by ${id}, the key the receipt names (pin it with the expected public key)`)
    : ok('signature', `signed by ${id}, the expected device key`);
}

// Receipts of one checkpoint share its note, so bulk verification meets the same (note, key) pair again and
// again. Ed25519 verification is deterministic: remembering recent successes is exact, and skips the most
// expensive step (~65 µs) for all but the first receipt of each checkpoint.
const VERIFIED_CACHE_SIZE = 256;
const verifiedNotes = new Set<string>();

function openNoteOnce(note: string, publicKey: string, verifier: NoteVerifier): void {
  const cacheKey = `${publicKey}\u0000${note}`;
  if (verifiedNotes.has(cacheKey)) return;
  openNote(note, verifier);
  if (verifiedNotes.size >= VERIFIED_CACHE_SIZE) verifiedNotes.delete(verifiedNotes.values().next().value!);
  verifiedNotes.add(cacheKey);
}
