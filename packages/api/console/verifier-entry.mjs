// The console's in-browser verifier: @fieldproof/receipt's own offline verifier, bundled by
// scripts/build-console.mjs and inlined into the /console page. Nothing leaves the browser: files are
// read with FileReader-like Blob methods and verified here; the page works saved to disk, offline.
import { setEd25519Verify } from '@fieldproof/note/verify';
import { verifyReceiptOffline, verifyReceiptV2Offline } from '@fieldproof/receipt';
import { ed25519 } from '@noble/curves/ed25519';

// No node:crypto in a browser: the note package verifies signatures with the implementation given here.
setEd25519Verify((publicKey, message, signature) => {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
});

/** Either receipt format, as `fieldproof verify` checks it offline (v2: the canonicality link unchecked). */
function verifyOne(receipt, options) {
  return receipt !== null && typeof receipt === 'object' && receipt.format === 'fieldproof-receipt/v2'
    ? verifyReceiptV2Offline(receipt, options)
    : verifyReceiptOffline(receipt, options);
}

/** The CLI's line for one link (packages/cli/src/commands/verify.ts `line`). */
function lineText(v) {
  return `${v.status.padEnd(9)} ${v.link}: ${v.detail}`;
}

/** The CLI's verdict line. */
function verdictText(verification) {
  const failed = verification.links.filter((l) => l.status === 'failed').map((l) => l.link);
  const unchecked = verification.links.filter((l) => l.status === 'unchecked').map((l) => l.link);
  return verification.ok
    ? `VERIFIED — every requested check holds${unchecked.length > 0 ? `; unchecked: ${unchecked.join(', ')}` : ''}`
    : `FAILED — broken: ${failed.join(', ')}`;
}

/** Verifies one parsed receipt (or each receipt of a bundle) with optional content bytes and pinned key. */
export function verifyDocument(document, content, expectedPublicKey) {
  const options = {};
  if (content !== undefined) options.content = content;
  if (expectedPublicKey) options.expectedPublicKey = expectedPublicKey;
  const receipts =
    document !== null && typeof document === 'object' && Array.isArray(document.receipts)
      ? document.receipts
      : [document];
  return receipts.map((r) => ({
    id: typeof r?.evidence?.id === 'string' ? r.evidence.id : '?',
    verification: verifyOne(r, receipts.length === 1 ? options : { ...options, content: undefined }),
  }));
}

function render(out, results, note) {
  out.replaceChildren();
  if (note) {
    const p = document.createElement('p');
    p.textContent = note;
    out.append(p);
  }
  for (const { id, verification } of results) {
    if (results.length > 1) {
      const h = document.createElement('h3');
      h.textContent = `receipt ${id}`;
      out.append(h);
    }
    const list = document.createElement('ul');
    list.className = 'links';
    for (const v of verification.links) {
      const li = document.createElement('li');
      li.className = `link ${v.status}`;
      li.dataset.link = v.link;
      li.dataset.status = v.status;
      li.textContent = lineText(v);
      list.append(li);
    }
    out.append(list);
    const verdict = document.createElement('p');
    verdict.className = `verdict ${verification.ok ? 'ok' : 'failed'}`;
    verdict.dataset.ok = String(verification.ok);
    verdict.textContent = `verdict: ${verdictText(verification)}`;
    out.append(verdict);
  }
}

async function readBytes(file) {
  return new Uint8Array(await file.arrayBuffer());
}

/** A dropped or picked set of files: the JSON one is the receipt, any other the evidence content. */
async function verifyFiles(root, files) {
  const out = root.querySelector('[data-verifier-output]');
  const keyInput = root.querySelector('[name="expect-key"]');
  const list = [...files];
  let receiptFile = list.find((f) => /\.json$/i.test(f.name) || f.type === 'application/json');
  if (receiptFile === undefined && list.length === 1) receiptFile = list[0];
  if (receiptFile === undefined) {
    render(out, [], 'drop a receipt (.json), optionally with the evidence file');
    return;
  }
  const contentFile =
    list.find((f) => f !== receiptFile) ?? root.querySelector('[name="content"]')?.files?.[0];
  let document;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readBytes(receiptFile)));
  } catch (err) {
    render(
      out,
      [],
      `${receiptFile.name} is not a JSON receipt: ${err instanceof Error ? err.message : String(err)}`,
    );
    return;
  }
  const content = contentFile === undefined ? undefined : await readBytes(contentFile);
  const results = verifyDocument(document, content, keyInput?.value.trim());
  render(
    out,
    results,
    `${receiptFile.name}${contentFile ? ` with ${contentFile.name}` : ''}: verified in this browser, nothing was uploaded`,
  );
}

function wire(root) {
  const zone = root.querySelector('[data-drop]');
  const picker = root.querySelector('[name="receipt"]');
  const contentPicker = root.querySelector('[name="content"]');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    void verifyFiles(root, e.dataTransfer?.files ?? []);
  });
  const fromPickers = () => {
    const files = [...(picker.files ?? [])];
    if (files.length > 0) void verifyFiles(root, [...files, ...(contentPicker.files ?? [])]);
  };
  picker.addEventListener('change', fromPickers);
  contentPicker.addEventListener('change', fromPickers);
  root.dataset.ready = 'true';
}

const root = globalThis.document?.querySelector('[data-verifier]');
if (root) wire(root);
globalThis.fieldproofVerify = verifyDocument;
