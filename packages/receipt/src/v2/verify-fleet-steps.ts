import { verifyInclusion } from '@fieldproof/merkle';
import {
  createNoteVerifier,
  formatKeyId,
  parseCheckpoint,
  parseSignedNote,
  type Checkpoint,
} from '@fieldproof/note/verify';
import { fleetLeafMismatch } from '../fleet/fleet-leaf-record.js';
import { leafHashOf } from '../leaf/encode-leaf-data.js';
import { hashFromHex, toHex } from '../hex.js';
import { checkNoteSignature } from '../verify/offline-links.js';
import { checkConsistency } from '../verify/verify-consistency-between.js';
import { errorText, failed, ok, type LinkVerdict } from '../verify/verdict.js';
import type {
  AnchorStep,
  ConsistencyStep,
  FleetCheckpointStep,
  FleetInclusionStep,
  FleetLeafStep,
} from './receipt-v2.js';

/** A signed checkpoint a step takes or produces: the note, the key it is signed by, its parsed body. */
export interface SignedCheckpoint {
  readonly note: string;
  readonly publicKey: string;
  readonly checkpoint: Checkpoint;
}

export interface FleetStepOptions {
  /** Fleet verifier keys a `fleet-checkpoint` must be signed by, one of them (`--fleet-key`). */
  readonly fleetKeys?: readonly string[];
}

/** The step sequences allowed before `anchor-tx` (docs/FORMATS.md §9.5). */
const SHAPES = [
  '',
  'consistency',
  'fleet-leaf,fleet-inclusion,fleet-checkpoint',
  'consistency,fleet-leaf,fleet-inclusion,fleet-checkpoint',
];
const PREFIX_TYPES = ['consistency', 'fleet-leaf', 'fleet-inclusion', 'fleet-checkpoint'];

/**
 * The steps of an anchor branch before `anchor-tx`: from the receipt's signed device checkpoint to the
 * signed checkpoint the anchor transaction must carry — the device's own (no steps), a later one of the
 * same log (`consistency`), or a fleet checkpoint whose log holds the device checkpoint (`fleet-leaf`,
 * `fleet-inclusion`, `fleet-checkpoint`). Links are named `<step type>:<id>`. Each step hands on what
 * it states even when its own link failed, so every later link reports on its own step; `held` says
 * whether all held, `checkpoint` is what the anchor must carry as the steps state it. `shape` is false
 * for steps this verifier does not know or in an order §9.5 does not allow: nothing after them is
 * checked. Never throws for a bad receipt.
 */
export function verifyFleetSteps(
  steps: readonly AnchorStep[],
  input: SignedCheckpoint | undefined,
  id: string,
  options: FleetStepOptions,
): { links: LinkVerdict[]; shape: boolean; held: boolean; checkpoint?: Checkpoint } {
  const links: LinkVerdict[] = [];
  const unknown = steps.filter((s) => !PREFIX_TYPES.includes(s.type));
  for (const s of unknown) {
    links.push(
      failed(
        `step:${s.type}:${id}`,
        `step type "${s.type}" before anchor-tx is not one this verifier knows: a newer fieldproof verifier is needed to check it`,
      ),
    );
  }
  if (unknown.length > 0) return { links, shape: false, held: false };
  const order = steps.map((s) => s.type).join(',');
  if (!SHAPES.includes(order)) {
    links.push(failed(`anchor-tx:${id}`, `anchor steps out of order: ${order},anchor-tx`));
    return { links, shape: false, held: false };
  }
  let current = input;
  let leafHash: Uint8Array | undefined;
  for (const [i, step] of steps.entries()) {
    switch (step.type) {
      case 'consistency': {
        const r = checkConsistencyStep(step, current, id);
        links.push(r.verdict);
        current = r.output;
        break;
      }
      case 'fleet-leaf': {
        const r = checkFleetLeafStep(step, current, id);
        links.push(r.verdict);
        leafHash = r.leafHash;
        break;
      }
      case 'fleet-inclusion':
        links.push(checkFleetInclusionStep(step, leafHash, steps[i + 1] as FleetCheckpointStep, id));
        break;
      case 'fleet-checkpoint': {
        const r = checkFleetCheckpointStep(step, steps[i - 1] as FleetInclusionStep, id, options);
        links.push(r.verdict);
        current = r.output;
        break;
      }
    }
  }
  const held = current !== undefined && links.every((l) => l.status === 'ok');
  return current === undefined
    ? { links, shape: true, held }
    : { links, shape: true, held, checkpoint: current.checkpoint };
}

function parseNote(note: string): Checkpoint {
  return parseCheckpoint(parseSignedNote(note).text);
}

type StepResult = { verdict: LinkVerdict; output?: SignedCheckpoint };

function checkConsistencyStep(
  step: ConsistencyStep,
  input: SignedCheckpoint | undefined,
  id: string,
): StepResult {
  const link = `consistency:${id}`;
  let later: Checkpoint;
  try {
    later = parseNote(step.note);
  } catch (err) {
    return { verdict: failed(link, `the later checkpoint: ${errorText(err)}`) };
  }
  if (input === undefined)
    return { verdict: failed(link, 'no signed checkpoint to extend: the trunk failed') };
  const output = { note: step.note, publicKey: input.publicKey, checkpoint: later };
  const signature = checkNoteSignature(step.note, input.publicKey, undefined);
  if (signature.status !== 'ok') {
    const reason = `the later checkpoint is not signed by the device key: ${signature.detail}`;
    return { verdict: failed(link, reason), output };
  }
  const verdict = checkConsistency(input.checkpoint, later, step.proof);
  if (verdict.status !== 'ok') return { verdict: { ...verdict, link }, output };
  const detail = `${later.origin} at tree size ${later.treeSize}, signed by the same key, extends tree ${input.checkpoint.treeSize}`;
  return { verdict: ok(link, detail), output };
}

function checkFleetLeafStep(
  step: FleetLeafStep,
  input: SignedCheckpoint | undefined,
  id: string,
): { verdict: LinkVerdict; leafHash?: Uint8Array } {
  const link = `fleet-leaf:${id}`;
  let leafHash: Uint8Array;
  try {
    leafHash = leafHashOf(step.evidence);
  } catch (err) {
    return { verdict: failed(link, `the fleet record cannot be encoded as a leaf: ${errorText(err)}`) };
  }
  if (input === undefined) {
    return { verdict: failed(link, 'no signed device checkpoint: a link before failed'), leafHash };
  }
  const mismatch = fleetLeafMismatch(step.evidence, input.note);
  if (mismatch !== undefined) return { verdict: failed(link, mismatch), leafHash };
  const computed = toHex(leafHash);
  if (computed !== step.leafHash) {
    const reason = `fleet leaf hash rebuilt from the record is ${computed}, the step says ${step.leafHash}`;
    return { verdict: failed(link, reason), leafHash };
  }
  const { origin, treeSize } = input.checkpoint;
  return {
    verdict: ok(link, `fleet leaf ${computed} records device checkpoint ${origin}@${treeSize}`),
    leafHash,
  };
}

/** The proof must lead to the tree head the next step's fleet checkpoint states (its signature is that step's). */
function checkFleetInclusionStep(
  step: FleetInclusionStep,
  leafHash: Uint8Array | undefined,
  next: FleetCheckpointStep,
  id: string,
): LinkVerdict {
  const link = `fleet-inclusion:${id}`;
  if (leafHash === undefined) return failed(link, 'no fleet leaf hash: the fleet record does not encode');
  let head: Checkpoint;
  try {
    head = parseNote(next.note);
  } catch (err) {
    return failed(link, `no fleet tree head to prove against: ${errorText(err)}`);
  }
  const { leafIndex, treeSize, proof } = step;
  if (treeSize !== head.treeSize) {
    return failed(
      link,
      `the proof is for fleet tree size ${treeSize}, the fleet checkpoint is of size ${head.treeSize}`,
    );
  }
  try {
    verifyInclusion(leafIndex, treeSize, leafHash, proof.map(hashFromHex), head.root);
  } catch (err) {
    return failed(
      link,
      `fleet leaf ${leafIndex} is not proven in the fleet tree of size ${treeSize}: ${errorText(err)}`,
    );
  }
  return ok(
    link,
    `fleet leaf ${leafIndex} is in the fleet tree of size ${treeSize} with root ${toHex(head.root)}`,
  );
}

function checkFleetCheckpointStep(
  step: FleetCheckpointStep,
  inclusion: FleetInclusionStep,
  id: string,
  options: FleetStepOptions,
): StepResult {
  const link = `fleet-checkpoint:${id}`;
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseNote(step.note);
  } catch (err) {
    return { verdict: failed(link, errorText(err)) };
  }
  const output = { note: step.note, publicKey: step.publicKey, checkpoint };
  let name: string;
  try {
    const verifier = createNoteVerifier(step.publicKey);
    name = `${verifier.name}+${formatKeyId(verifier.keyId)}`;
  } catch (err) {
    return { verdict: failed(link, `fleet public key: ${errorText(err)}`), output };
  }
  if (checkpoint.treeSize !== inclusion.treeSize) {
    const reason = `the fleet checkpoint is of size ${checkpoint.treeSize}, the inclusion proof of ${inclusion.treeSize}`;
    return { verdict: failed(link, reason), output };
  }
  const pinned = options.fleetKeys ?? [];
  // Verifier key strings have one valid spelling, so equal keys are equal strings.
  if (pinned.length > 0 && !pinned.includes(step.publicKey)) {
    const reason = `signed by ${name}, which is not a --fleet-key (${pinned.length} pinned)`;
    return { verdict: failed(link, reason), output };
  }
  const signature = checkNoteSignature(step.note, step.publicKey, undefined);
  if (signature.status !== 'ok') return { verdict: { ...signature, link }, output };
  const head = `${checkpoint.origin} at fleet tree size ${checkpoint.treeSize}, signed by ${name}`;
  const detail =
    pinned.length > 0
      ? `${head}, a pinned fleet key`
      : `${head}, the key the receipt names: the fleet key was not pinned (--fleet-key)`;
  return { verdict: ok(link, detail), output };
}
