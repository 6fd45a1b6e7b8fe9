import { keccak_256 } from '@noble/hashes/sha3.js';
import { rootFromInclusionProof } from '@fieldproof/merkle';
import {
  formatKeyId,
  parseCheckpoint,
  parseCosignerKey,
  parseSignedNote,
  verifyCosignature,
  type Checkpoint,
} from '@fieldproof/note/verify';
import { decodeAnchorPayload } from '../anchor/anchor-payload.js';
import { AnchorProofError } from '../anchor-proof/anchor-proof-error.js';
import { verifyAnchorProof, type VerifiedAnchorProof } from '../anchor-proof/anchor-proof.js';
import { bytesFrom0x, hex0x } from '../anchor-proof/rlp-values.js';
import { LEAF_FORMAT, LEAF_FORMAT_V2, leafHashOf } from '../leaf/encode-leaf-data.js';
import { bytesEqual, hashFromHex, toHex } from '../hex.js';
import { checkContent, checkNoteSignature } from '../verify/offline-links.js';
import { errorText, failed, ok, unchecked, type LinkVerdict, type Verification } from '../verify/verdict.js';
import { trustedBlocks, type CanonicalAnswer, type CanonicalBlocks } from './canonical-blocks.js';
import { validateReceiptV2 } from './validate-receipt-v2.js';
import {
  ANCHOR_STEP_TYPES,
  type AnchorBranch,
  type AnchorTxStep,
  type BlockStep,
  type CheckpointStep,
  type CosignatureStep,
  type HeaderStep,
  type InclusionStep,
  type LeafStep,
  type ReceiptV2,
  type TxTrieStep,
} from './receipt-v2.js';
import { verifyFleetSteps, type FleetStepOptions, type SignedCheckpoint } from './verify-fleet-steps.js';
import { notBeforeOf, timeBracket, type BlockRef, type TimeBracket } from './time-bracket.js';

export interface V2VerifyOptions {
  readonly content?: Uint8Array;
  /** The device verifier key the checkpoint must be signed by (`--expect-key`). */
  readonly expectedPublicKey?: string;
  /** Witness (cosigner) keys each of which must have cosigned the checkpoint (`--witness-key`). */
  readonly witnessKeys?: readonly string[];
  /** Fleet verifier keys, one of which must sign each fleet checkpoint (`--fleet-key`). */
  readonly fleetKeys?: readonly string[];
}

/** What the trunk (record → checkpoint) established, for the anchor branches. */
export interface TrunkResult {
  readonly links: LinkVerdict[];
  /** The signed checkpoint, when every trunk link held. */
  readonly checkpoint?: Checkpoint;
  /** The same with its note and key: what the anchor branches start from. */
  readonly signed?: SignedCheckpoint;
  readonly leafFormat?: string;
}

/** One anchor branch checked offline; `block` is set when the header proved it. */
export interface BranchResult {
  readonly links: LinkVerdict[];
  /** The block the header proves the anchor is in (before canonicality). */
  readonly block?: BlockRef;
  /** Whether every offline link of the branch held. */
  readonly ok: boolean;
  /** `${chainId}:${txHash}`: names the branch's links. */
  readonly id: string;
  /** A branch without proof (not final when the receipt was made): the v1 online check applies. */
  readonly unproven?: {
    /** The checkpoint the transaction must carry, when the steps before anchor-tx held. */
    readonly checkpoint?: Checkpoint;
    readonly chainId: number;
    readonly txHash: string;
    readonly from?: string;
    readonly block?: BlockStep;
  };
}

/**
 * record → leaf → inclusion → checkpoint → signature → cosignatures (and the required witnesses).
 * Never throws for a bad receipt.
 */
export function verifyTrunk(receipt: ReceiptV2, options: V2VerifyOptions): TrunkResult {
  const links: LinkVerdict[] = [checkContent(receipt as never, options.content)];
  const steps = receipt.steps;
  const [leafStep, inclusionStep, checkpointStep, ...rest] = steps;
  if (
    leafStep?.type !== 'leaf' ||
    inclusionStep?.type !== 'inclusion' ||
    checkpointStep?.type !== 'checkpoint'
  ) {
    links.push(
      failed(
        'steps',
        `the receipt must start with leaf, inclusion, checkpoint; it has ${steps.map((s) => s.type).join(', ')}`,
      ),
    );
    return { links };
  }
  const leaf = checkLeafStep(receipt, leafStep);
  links.push(leaf.verdict);
  const inclusion = checkInclusionStep(leaf.leafHash, inclusionStep);
  links.push(inclusion.verdict);
  const checkpoint = checkCheckpointStep(inclusionStep, inclusion.root, checkpointStep);
  links.push(checkpoint.verdict);
  const signature = checkSignatureStep(checkpointStep, options.expectedPublicKey);
  links.push(signature);

  const cosigned = new Map<string, LinkVerdict>();
  for (const step of rest) {
    if (step.type !== 'cosignature') {
      links.push(
        failed(
          `step:${step.type}`,
          (ANCHOR_STEP_TYPES as readonly string[]).includes(step.type)
            ? `a ${step.type} step belongs in an anchor branch, not after the checkpoint`
            : unknownStep(step.type, 'after the checkpoint'),
        ),
      );
      continue;
    }
    const verdict = checkCosignatureStep(checkpointStep, step);
    cosigned.set(step.witnessKey, verdict);
    links.push(verdict);
  }
  for (const key of options.witnessKeys ?? []) links.push(requiredWitness(key, cosigned));

  const trunkOk = links.every((l) => l.status !== 'failed');
  return trunkOk && checkpoint.checkpoint !== undefined
    ? {
        links,
        checkpoint: checkpoint.checkpoint,
        signed: {
          note: checkpointStep.note,
          publicKey: checkpointStep.publicKey,
          checkpoint: checkpoint.checkpoint,
        },
        leafFormat: leafStep.format,
      }
    : { links, leafFormat: leafStep.format };
}

function unknownStep(type: string, where: string): string {
  return `step type "${type}" ${where} is not one this verifier knows: a newer fieldproof verifier is needed to check it`;
}

function checkLeafStep(receipt: ReceiptV2, step: LeafStep): { verdict: LinkVerdict; leafHash?: Uint8Array } {
  if (step.format !== LEAF_FORMAT && step.format !== LEAF_FORMAT_V2) {
    return {
      verdict: failed('leaf', `leaf format ${JSON.stringify(step.format)} is not one this verifier knows`),
    };
  }
  const evidenceFormat = receipt.evidence.leafFormat ?? LEAF_FORMAT;
  if (step.format !== evidenceFormat) {
    return {
      verdict: failed('leaf', `the leaf step says ${step.format}, the evidence is ${evidenceFormat}`),
    };
  }
  let leafHash: Uint8Array;
  try {
    leafHash = leafHashOf(receipt.evidence);
  } catch (err) {
    return { verdict: failed('leaf', `the evidence cannot be encoded as a leaf: ${errorText(err)}`) };
  }
  const computed = toHex(leafHash);
  return computed === step.leafHash
    ? { verdict: ok('leaf', `leaf hash ${computed} rebuilt from the evidence (${step.format})`), leafHash }
    : {
        verdict: failed(
          'leaf',
          `leaf hash rebuilt from the evidence is ${computed}, the receipt says ${step.leafHash}`,
        ),
      };
}

function checkInclusionStep(
  leafHash: Uint8Array | undefined,
  step: InclusionStep,
): { verdict: LinkVerdict; root?: Uint8Array } {
  if (leafHash === undefined) return { verdict: failed('inclusion', 'no leaf hash: the leaf link failed') };
  const { leafIndex, treeSize, proof } = step;
  if (leafIndex >= treeSize) {
    return { verdict: failed('inclusion', `leaf ${leafIndex} is not in a tree of size ${treeSize}`) };
  }
  // The step's output is the root the proof leads to; the checkpoint step requires the note to sign it.
  let root: Uint8Array;
  try {
    root = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof.map(hashFromHex));
  } catch (err) {
    return {
      verdict: failed('inclusion', `leaf ${leafIndex} is not proven in tree ${treeSize}: ${errorText(err)}`),
    };
  }
  return {
    verdict: ok('inclusion', `leaf ${leafIndex} is in the tree of size ${treeSize} with root ${toHex(root)}`),
    root,
  };
}

function checkCheckpointStep(
  inclusion: InclusionStep,
  root: Uint8Array | undefined,
  step: CheckpointStep,
): { verdict: LinkVerdict; checkpoint?: Checkpoint } {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseSignedNote(step.note).text);
  } catch (err) {
    return { verdict: failed('checkpoint', errorText(err)) };
  }
  if (root === undefined) return { verdict: failed('checkpoint', 'no tree head: the inclusion link failed') };
  if (checkpoint.treeSize !== inclusion.treeSize || !bytesEqual(checkpoint.root, root)) {
    return {
      verdict: failed(
        'checkpoint',
        `the note signs tree size ${checkpoint.treeSize} root ${toHex(checkpoint.root)}, the inclusion proof leads to size ${inclusion.treeSize} root ${toHex(root)}`,
      ),
    };
  }
  return {
    verdict: ok(
      'checkpoint',
      `${checkpoint.origin} at tree size ${checkpoint.treeSize}, root ${toHex(checkpoint.root)}`,
    ),
    checkpoint,
  };
}

function checkSignatureStep(step: CheckpointStep, expected: string | undefined): LinkVerdict {
  return checkNoteSignature(step.note, step.publicKey, expected);
}

// Receipts of one checkpoint share its note, cosignatures and anchors, so a bundle meets the same
// (note, key) pair, cosignature line and anchor branch again and again. Each check is deterministic:
// remembering recent results is exact, and skips Ed25519 and keccak work for all but the first receipt.
const CACHE_SIZE = 256;
function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}
const cosignatureVerdicts = new Map<string, LinkVerdict>();
const branchResults = new Map<string, BranchResult>();

function witnessName(key: string): string {
  try {
    const k = parseCosignerKey(key);
    return `${k.name}+${formatKeyId(k.keyId)}`;
  } catch {
    return key.split('+').slice(0, 2).join('+');
  }
}

function checkCosignatureStep(checkpoint: CheckpointStep, step: CosignatureStep): LinkVerdict {
  const key = `${checkpoint.note}\u0000${step.witnessKey}\u0000${step.line}`;
  return (
    cosignatureVerdicts.get(key) ??
    remember(cosignatureVerdicts, key, checkCosignatureUncached(checkpoint, step))
  );
}

function checkCosignatureUncached(checkpoint: CheckpointStep, step: CosignatureStep): LinkVerdict {
  const link = `cosignature:${witnessName(step.witnessKey)}`;
  try {
    const text = parseSignedNote(checkpoint.note).text;
    const line = step.line.endsWith('\n') ? step.line : `${step.line}\n`;
    const cosig = verifyCosignature(`${text}\n${line}`, step.witnessKey);
    return ok(
      link,
      `the witness cosigned this checkpoint at ${new Date(cosig.timestamp * 1000).toISOString()}`,
    );
  } catch (err) {
    return failed(link, errorText(err));
  }
}

function requiredWitness(key: string, cosigned: ReadonlyMap<string, LinkVerdict>): LinkVerdict {
  const link = `witness:${witnessName(key)}`;
  try {
    parseCosignerKey(key);
  } catch (err) {
    return failed(link, `--witness-key ${key}: ${errorText(err)}`);
  }
  const verdict = cosigned.get(key);
  if (verdict === undefined) return failed(link, 'the receipt carries no cosignature by this witness');
  return verdict.status === 'ok'
    ? ok(link, `required witness: ${verdict.detail}`)
    : failed(link, `required witness: ${verdict.detail}`);
}

/**
 * One anchor branch, offline: signed checkpoint → (consistency, fleet steps: the checkpoint the anchor
 * carries) → transaction (raw bytes hash to txHash, calldata decodes to that checkpoint, chain id) →
 * trie → header → block. Canonicality is not decided here.
 */
export function verifyBranch(
  branch: AnchorBranch,
  signed: SignedCheckpoint | undefined,
  options: FleetStepOptions = {},
): BranchResult {
  const key =
    signed === undefined
      ? undefined
      : `${signed.publicKey}\u0000${signed.note}\u0000${(options.fleetKeys ?? []).join('\u0000')}\u0001${JSON.stringify(branch)}`;
  if (key === undefined) return verifyBranchUncached(branch, signed, options);
  const cached = branchResults.get(key);
  if (cached !== undefined) return { ...cached, links: [...cached.links] };
  const result = verifyBranchUncached(branch, signed, options);
  remember(branchResults, key, result);
  return { ...result, links: [...result.links] };
}

function verifyBranchUncached(
  branch: AnchorBranch,
  signed: SignedCheckpoint | undefined,
  options: FleetStepOptions,
): BranchResult {
  const at = branch.steps.findIndex((s) => s.type === 'anchor-tx');
  const first = branch.steps[at];
  if (first?.type !== 'anchor-tx') {
    const id = `${branch.chain}`;
    return {
      id,
      ok: false,
      links: [
        failed(
          `anchor:${id}`,
          `an anchor must have an anchor-tx step; it has ${branch.steps.map((s) => s.type).join(', ')}`,
        ),
      ],
    };
  }
  const id = `${first.chainId}:${first.txHash}`;
  const before = verifyFleetSteps(branch.steps.slice(0, at), signed, id, options);
  const links: LinkVerdict[] = before.links;
  if (!before.shape) return { id, ok: false, links };
  // What the steps before state the anchor carries; a failed one among them already fails the branch.
  const checkpoint = before.checkpoint;
  const rest = branch.steps.slice(at + 1);
  const unknown = rest.filter((s) => !(ANCHOR_STEP_TYPES as readonly string[]).includes(s.type));
  for (const s of unknown) links.push(failed(`step:${s.type}:${id}`, unknownStep(s.type, 'in an anchor')));
  const trie = rest.find((s): s is TxTrieStep => s.type === 'tx-trie');
  const header = rest.find((s): s is HeaderStep => s.type === 'header');
  const block = rest.find((s): s is BlockStep => s.type === 'block');
  const order = rest.map((s) => s.type).join(',');
  const proven =
    first.rawTx !== undefined && trie !== undefined && header !== undefined && block !== undefined;
  if (
    unknown.length === 0 &&
    !(proven ? order === 'tx-trie,header,block' : order === '' || order === 'block')
  ) {
    links.push(failed(`anchor-tx:${id}`, `anchor steps out of order: anchor-tx,${order}`));
    return { id, ok: false, links };
  }
  if (!proven || unknown.length > 0) {
    if (first.rawTx === undefined && trie === undefined && header === undefined) {
      links.push(
        unchecked(
          `anchor-tx:${id}`,
          `anchor ${branch.state} when the receipt was made: no proof in the receipt, only an RPC can check it`,
        ),
      );
      return {
        id,
        ok: false,
        links,
        unproven: {
          ...(checkpoint === undefined || !before.held ? {} : { checkpoint }),
          chainId: first.chainId,
          txHash: first.txHash,
          ...(first.from === undefined ? {} : { from: first.from }),
          ...(block === undefined ? {} : { block }),
        },
      };
    }
    links.push(failed(`anchor-tx:${id}`, 'a proven anchor needs rawTx, tx-trie, header and block together'));
    return { id, ok: false, links };
  }
  // `links` holds those of the steps before anchor-tx: one that failed fails the branch.
  return { id, ...checkProven(id, first, trie, header, block, checkpoint, links) };
}

function checkProven(
  id: string,
  tx: AnchorTxStep,
  trie: TxTrieStep,
  header: HeaderStep,
  block: BlockStep,
  checkpoint: Checkpoint | undefined,
  links: LinkVerdict[],
): { links: LinkVerdict[]; ok: boolean; block?: BlockRef } {
  const txLink = `anchor-tx:${id}`;
  const trieLink = `tx-trie:${id}`;
  const headerLink = `header:${id}`;
  const blockLink = `block:${id}`;
  // anchor-tx: the raw bytes are the transaction named, and carry this checkpoint.
  let rawTx: Uint8Array;
  try {
    rawTx = bytesFrom0x(tx.rawTx!, 'rawTx');
  } catch (err) {
    links.push(failed(txLink, errorText(err)));
    return { links, ok: false };
  }
  const txHash = hex0x(keccak_256(rawTx));
  let proof: VerifiedAnchorProof | undefined;
  let proofError: AnchorProofError | undefined;
  try {
    proof = verifyAnchorProof({
      chainId: tx.chainId,
      blockNumber: block.number,
      blockHash: block.hash,
      rawHeader: header.rawHeader,
      txIndex: trie.txIndex,
      rawTx: tx.rawTx!,
      txProof: trie.proof,
    });
  } catch (err) {
    if (!(err instanceof AnchorProofError)) throw err;
    proofError = err;
  }
  const stage = proofError?.check;
  const txProblem =
    txHash !== tx.txHash
      ? `keccak256(rawTx) is ${txHash}, not ${tx.txHash}`
      : stage === 'tx' || stage === 'chain-id'
        ? proofError!.reason
        : proof === undefined
          ? undefined
          : calldataProblem(proof.data, checkpoint);
  links.push(
    txProblem === undefined && (proof !== undefined || (stage !== 'tx' && stage !== 'chain-id'))
      ? ok(
          txLink,
          `transaction ${txHash} on chain ${tx.chainId} carries checkpoint ${checkpoint === undefined ? '(unverified)' : `${checkpoint.origin}@${checkpoint.treeSize}`} in its calldata`,
        )
      : failed(txLink, txProblem ?? 'the transaction does not decode'),
  );
  links.push(
    stage === 'tx-proof' || stage === 'format'
      ? failed(trieLink, proofError!.reason)
      : stage === undefined
        ? ok(
            trieLink,
            `the transactions trie of the header holds exactly this transaction at index ${trie.txIndex}`,
          )
        : unchecked(trieLink, 'not reached: the header did not verify'),
  );
  const headerBad = stage === 'header-hash' || stage === 'header' || stage === 'block-number';
  links.push(
    headerBad
      ? failed(headerLink, proofError!.reason)
      : proof === undefined
        ? unchecked(headerLink, 'not reached')
        : ok(
            headerLink,
            `keccak256 of the header is ${proof.blockHash}, block ${proof.blockNumber} at ${new Date(proof.blockTimestamp).toISOString()}`,
          ),
  );
  if (proof !== undefined && block.timestamp !== proof.blockTimestamp) {
    links.push(
      failed(
        blockLink,
        `the header's time is ${proof.blockTimestamp} ms, the receipt says ${block.timestamp}`,
      ),
    );
  } else if (proof !== undefined && block.chainId !== tx.chainId) {
    links.push(
      failed(blockLink, `the block step names chain ${block.chainId}, the transaction is for ${tx.chainId}`),
    );
  }
  const allOk = links.every((l) => l.status === 'ok');
  return allOk && proof !== undefined
    ? {
        links,
        ok: true,
        block: {
          chainId: tx.chainId,
          number: proof.blockNumber,
          hash: proof.blockHash,
          timestamp: proof.blockTimestamp,
        },
      }
    : { links, ok: false };
}

function calldataProblem(data: Uint8Array, checkpoint: Checkpoint | undefined): string | undefined {
  let payload;
  try {
    payload = decodeAnchorPayload(data);
  } catch (err) {
    return `calldata is not a fieldproof anchor: ${errorText(err)}`;
  }
  if (checkpoint === undefined) return 'the checkpoint did not verify: nothing to compare the calldata with';
  const mismatches: string[] = [];
  if (payload.origin !== checkpoint.origin) mismatches.push(`origin ${JSON.stringify(payload.origin)}`);
  if (payload.treeSize !== checkpoint.treeSize) mismatches.push(`tree size ${payload.treeSize}`);
  if (!bytesEqual(payload.root, checkpoint.root)) mismatches.push(`root ${toHex(payload.root)}`);
  return mismatches.length === 0
    ? undefined
    : `calldata anchors ${mismatches.join(', ')}, not the receipt's checkpoint`;
}

/** The canonicality link of a proven block. */
export function canonicalVerdict(block: BlockRef, answer: CanonicalAnswer): LinkVerdict {
  return { link: `canonical:${block.chainId}:${block.number}`, status: answer.status, detail: answer.detail };
}

/** Without a source: every other link holds, canonicality is not known. */
export const NO_CANONICAL_SOURCE: CanonicalBlocks = {
  check: () => ({
    status: 'unchecked',
    detail: 'whether this block is canonical needs --trusted-blocks FILE or --rpc URL',
  }),
};

/**
 * The bracket of a record: no later than the earliest proven anchor block (canonical ones first),
 * after the leaf's not-before block when its leaf format carries one.
 */
export function bracketOf(
  receipt: ReceiptV2,
  leafFormat: string | undefined,
  blocks: readonly { block: BlockRef; canonical: boolean }[],
): TimeBracket | undefined {
  if (blocks.length === 0) return undefined;
  const canonical = blocks.filter((b) => b.canonical);
  const pool = canonical.length > 0 ? canonical : blocks;
  const earliest = pool.reduce((a, b) => (b.block.timestamp < a.block.timestamp ? b : a));
  const notBefore = leafFormat === undefined ? undefined : notBeforeOf(receipt.evidence, leafFormat);
  return timeBracket(receipt.evidence.occurredAt, earliest.block, earliest.canonical, notBefore);
}

/**
 * Every link of a v2 receipt, offline and synchronously: the trunk, each anchor branch, and canonicality
 * from `trusted` (a `parseTrustedBlocks` map) or `unchecked`. Never throws for a bad receipt. (The CLI
 * and bundles use `createReceiptChecker`, which adds RPC and caching.)
 */
export function verifyReceiptV2Offline(
  value: unknown,
  options: V2VerifyOptions & { readonly trustedBlocks?: ReadonlyMap<string, string> } = {},
): Verification {
  let receipt: ReceiptV2;
  try {
    receipt = validateReceiptV2(value);
  } catch (err) {
    return { ok: false, links: [failed('format', errorText(err))] };
  }
  const trunk = verifyTrunk(receipt, options);
  const links: LinkVerdict[] = [ok('format', receipt.format), ...trunk.links];
  const proven: { block: BlockRef; canonical: boolean }[] = [];
  for (const branch of receipt.anchors) {
    const result = verifyBranch(branch, trunk.signed, options);
    links.push(...result.links);
    if (result.block !== undefined) {
      const source =
        options.trustedBlocks === undefined ? NO_CANONICAL_SOURCE : trustedBlocks(options.trustedBlocks);
      const answer = source.check(
        result.block.chainId,
        result.block.number,
        result.block.hash,
      ) as CanonicalAnswer;
      links.push(canonicalVerdict(result.block, answer));
      proven.push({ block: result.block, canonical: answer.status === 'ok' });
    }
  }
  const bracket = trunk.checkpoint === undefined ? undefined : bracketOf(receipt, trunk.leafFormat, proven);
  return {
    ok: links.every((l) => l.status !== 'failed'),
    links,
    ...(bracket === undefined ? {} : { bracket }),
  };
}
