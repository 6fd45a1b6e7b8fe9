import type { Command } from '../command.js';
import { UsageError } from '../command.js';

/**
 * `fieldproof verify`: checks a receipt, a bundle of receipts, or the consistency of two checkpoints —
 * with nothing but the files (and, if asked, chain RPC URLs): no device, no database, no api needed for
 * receipts. Exit 0 only if every requested check holds, 1 if one failed, 2 for a usage error or input
 * that cannot be read. docs/RECEIPTS.md explains every link. The two commands live in verify/: receipts
 * and bundles (receipts.ts), consistency (consistency.ts); report.ts has both output formats.
 */
export const verifyCommand: Command = {
  usage: `fieldproof verify <receipt.json | bundle.json | -> [--content FILE | --content-dir DIR]
                  [--trusted-blocks FILE] [--rpc URL ...] [--witness-key VKEY ...] [--fleet-key VKEY ...]
                  [--min-confirmations N] [--require-final] [--expect-key VKEY] [--json]
      One verdict per link, each ok, failed or unchecked (docs/RECEIPTS.md). fieldproof-receipt/v2: format,
      content, leaf, inclusion, checkpoint, signature, cosignature:<witness>, and per anchor
      [consistency:, fleet-leaf:, fleet-inclusion:, fleet-checkpoint:] anchor-tx:, tx-trie:, header:
      (offline, from the receipt alone) and canonical:<chainId>:<number>; then
      a "time:" line — no later than the anchoring block's header time (and after the leaf's block, when
      the leaf names one). fieldproof-receipt/v1: ..., one per anchor (anchor:<chainId>:<txHash>, needs
      --rpc). With --rpc or --trusted-blocks, also "anchors": at least one anchor must verify.
      -                     read the receipt or bundle from standard input (named "-" in the report)
      A long bundle reports progress on stderr every 1000 receipts or every second.
      --content FILE        the record's content: its SHA-256 (or that of its RFC 8785 JSON) must be the digest
      --content-dir DIR     for a bundle: content files named by digest or by evidence id, where present;
                            a folder that cannot be read, or holds the content of no receipt, is refused
      --trusted-blocks FILE lines "chainId number hash": the blocks you hold canonical (from sources you
                            choose; one line covers every receipt anchored in that block). Checked first.
      --witness-key VKEY    a witness (collector) cosigner key: the checkpoint must carry its valid
                            cosignature (repeat: each is required)
      --fleet-key VKEY      a collector's fleet log key ("fieldproof collector-key"): every fleet checkpoint
                            an anchor goes through must be signed by it (repeat: any one of them). Without
                            it a fleet checkpoint is only shown to be signed by the key it names
      --rpc URL             a JSON-RPC endpoint (repeat for several chains; matched by eth_chainId). Each
                            v1 anchor's transaction, calldata, block, time and confirmations are checked; for
                            v2, whether the proven block is canonical (one call per block; several --rpc
                            for one chain must agree). Without --rpc/--trusted-blocks, canonical: stays
                            unchecked.
      --min-confirmations N confirmations an anchor's block needs (default 1)
      --require-final       an anchor's block must be at or below the chain's finalized block
      --expect-key VKEY     the device verifier key (from "fieldproof device") the checkpoint must be signed
                            by; without it a receipt is only shown to be signed by the key it names
      --json                one JSON object instead of lines

fieldproof verify --consistency OLD [NEW] (--proof FILE | --api URL [--api-key KEY]) [--expect-key VKEY] [--json]
      Proves the log of NEW extends the log of OLD (it only appended). OLD and NEW are checkpoint notes as
      files: a signed note, a receipt, or a GET /v1/log/checkpoint answer. The key comes from --expect-key,
      else from OLD (a receipt or checkpoint answer names it); a bare note needs --expect-key (the key
      "fieldproof device" prints). --proof FILE is a GET /v1/log/consistency answer, exactly
      {"from","to","proof"}; --api fetches it (and, without NEW, the api's latest checkpoint) with the
      read key from --api-key or FIELDPROOF_API_KEY.

Exit status: 0 every requested check holds (unchecked links are listed), 1 a check failed (a bundle
with no receipts fails: nothing was verified), 2 usage or unreadable input.`,
  example: `fieldproof verify receipt.json --content photo.jpg --expect-key 'unit-7+d9100086+ASMOt6…'
fieldproof verify receipt.json --trusted-blocks blocks.txt --witness-key 'collector-1+8d2c1f0a+BN…'
fieldproof verify receipt.json --trusted-blocks blocks.txt --fleet-key 'collector-1-fleet+5e1f02ab+AX…'
fieldproof verify receipt.json --rpc https://sepolia.example/rpc --min-confirmations 12 --json
fieldproof verify bundle.json --content-dir ./evidence --rpc https://sepolia.example/rpc
curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:8080/v1/evidence/$ID/receipt | fieldproof verify -
FIELDPROOF_API_KEY=fp_… fieldproof verify --consistency kept-checkpoint.txt --api https://unit-7.example:8080 \
    --expect-key 'unit-7+d9100086+ASMOt6…'`,
  options: {
    content: { type: 'string' },
    'content-dir': { type: 'string' },
    rpc: { type: 'string', multiple: true },
    'trusted-blocks': { type: 'string' },
    'witness-key': { type: 'string', multiple: true },
    'fleet-key': { type: 'string', multiple: true },
    'min-confirmations': { type: 'string' },
    'require-final': { type: 'boolean' },
    'expect-key': { type: 'string' },
    json: { type: 'boolean' },
    consistency: { type: 'boolean' },
    proof: { type: 'string' },
    api: { type: 'string' },
    'api-key': { type: 'string' },
  },
  async run(ctx) {
    if (ctx.values.consistency === true) {
      for (const name of ['trusted-blocks', 'witness-key', 'fleet-key']) {
        if (ctx.values[name] !== undefined)
          throw new UsageError(`--${name} is for receipts, not --consistency`);
      }
      return (await import('./verify/consistency.js')).verifyConsistency(ctx);
    }
    return (await import('./verify/receipts.js')).verifyReceipts(ctx);
  },
};
