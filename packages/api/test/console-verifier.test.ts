import fs from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { verifyReceiptOffline, verifyReceiptV2Offline } from '@fieldproof/receipt';
import type { Verification } from '@fieldproof/receipt';
import { receiptFor } from '@fieldproof/proofs';
import { createTestDatabase } from '../../../test/support/databases.js';
import { createLogFixture } from '../../../test/support/log-fixture.js';

const BUNDLE = new URL('../dist/console/verifier.js', import.meta.url);
/** Written by the build when esbuild cannot run on the host (node_modules installed for another CPU). */
const SKIPPED = new URL('../dist/console/verifier.skipped', import.meta.url);
const skipped = fs.existsSync(SKIPPED) ? fs.readFileSync(SKIPPED, 'utf8').trim() : undefined;
if (skipped !== undefined)
  console.warn(`[fieldproof] browser bundle test SKIPPED: the build did not bundle: ${skipped}`);

/**
 * The console's browser bundle of @fieldproof/receipt (npm run build), run where there is no Node: a bare
 * V8 context with no `process`, `require` or `Buffer` — as in a browser, SHA-256 and Ed25519 come from
 * @noble. Its verdicts must be the package's own, link for link, for good and broken receipts.
 */
describe.skipIf(skipped !== undefined)('the in-browser verifier bundle', () => {
  it('gives the same verdict per link as verifyReceiptOffline, without node:crypto', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const fixture = await createLogFixture(database.db);
      const records = await fixture.appendBatch(5);
      const receipt = await receiptFor(database.db, records[2]!.id, { format: 'fieldproof-receipt/v1' });
      const receiptV2 = await receiptFor(database.db, records[2]!.id);
      const code = fs.readFileSync(BUNDLE, 'utf8');
      // The page as a whole must stay under 150 KB (console-browser.test.ts); the verifier is most of it.
      expect(code.length).toBeLessThan(140 * 1024);
      // What every browser has (and Node has too): text codecs and base64.
      const context = vm.createContext({ TextEncoder, TextDecoder, atob, btoa });
      vm.runInContext(code, context);
      // Objects made in the page's own realm, as a page's JSON.parse and FileReader make them.
      const verify = (doc: unknown, content?: Uint8Array, key?: string) => {
        Object.assign(context, {
          doc: JSON.stringify(doc),
          content: content === undefined ? undefined : [...content],
          key,
        });
        return vm.runInContext(
          'fieldproofVerify(JSON.parse(doc), content === undefined ? undefined : new Uint8Array(content), key)',
          context,
        ) as { verification: Verification }[];
      };
      expect(vm.runInContext('typeof process + typeof Buffer', context)).toBe('undefinedundefined');

      const cases: [string, unknown, Uint8Array | undefined, string | undefined][] = [
        ['good', receipt, records[2]!.content, fixture.key.verifierKey],
        ['wrong content', receipt, new TextEncoder().encode('not it'), undefined],
        [
          'tampered kind',
          { ...receipt, evidence: { ...receipt.evidence, kind: 'other' } },
          undefined,
          undefined,
        ],
        [
          'tampered root',
          { ...receipt, checkpoint: { ...receipt.checkpoint, root: '00'.repeat(32) } },
          undefined,
          undefined,
        ],
        ['other key', receipt, undefined, 'someone+01020304+AQ' + 'A'.repeat(42) + '='],
        ['not a receipt', { format: 'x' }, undefined, undefined],
      ];
      for (const [name, doc, content, key] of cases) {
        const inBrowser = verify(doc, content, key)[0]!.verification;
        const onNode = verifyReceiptOffline(doc, {
          ...(content !== undefined ? { content } : {}),
          ...(key !== undefined ? { expectedPublicKey: key } : {}),
        });
        expect(JSON.parse(JSON.stringify(inBrowser)), name).toEqual(JSON.parse(JSON.stringify(onNode)));
      }
      expect(verify(receipt, records[2]!.content)[0]!.verification.ok).toBe(true);
      // fieldproof-receipt/v2 (what the api serves by default): the same verdicts as the v2 verifier.
      for (const [name, doc] of [
        ['v2 good', receiptV2],
        ['v2 tampered kind', { ...receiptV2, evidence: { ...receiptV2.evidence, kind: 'other' } }],
      ] as const) {
        const inBrowser = verify(doc, records[2]!.content)[0]!.verification;
        const onNode = verifyReceiptV2Offline(doc, { content: records[2]!.content });
        expect(JSON.parse(JSON.stringify(inBrowser)), name).toEqual(JSON.parse(JSON.stringify(onNode)));
      }
      expect(verify(receiptV2, records[2]!.content)[0]!.verification.ok).toBe(true);
      const tampered = verify({ ...receipt, evidence: { ...receipt.evidence, kind: 'other' } })[0]!
        .verification;
      expect(tampered.links.find((l) => l.link === 'leaf')!.status).toBe('failed');
    } finally {
      await database.close();
    }
  });
});
