import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The browser bundle of @fieldproof/receipt's verifier, written by scripts/build-console.mjs at build time
 * beside this module in dist/ (tests that run the sources find it in dist/ too).
 */
const BUNDLES = [
  fileURLToPath(new URL('./verifier.js', import.meta.url)),
  fileURLToPath(new URL('../../dist/console/verifier.js', import.meta.url)),
];

/** The bundle's text, or undefined when the build did not make it (then the page says so). */
export function loadVerifierBundle(): string | undefined {
  for (const file of BUNDLES) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/** The verifier panel: a drop zone, file pickers, an optional pinned key, and where verdicts go. */
export function verifierPanel(available: boolean): string {
  if (!available) {
    return `<section id="verifier"><h2>Verify a receipt</h2><p class="bad">The in-browser verifier was not built (run npm run build); use fieldproof verify.</p></section>`;
  }
  return `<section id="verifier" data-verifier><h2>Verify a receipt</h2>
<p class="mute">Verified in this browser by the receipt package itself: nothing is uploaded. Save this page to verify offline.</p>
<div class="drop" data-drop><p>Drop a receipt (.json), and optionally the evidence file, here</p>
<label for="v-receipt">Receipt or bundle</label><input id="v-receipt" type="file" name="receipt" accept=".json,application/json">
<label for="v-content">Evidence file (optional)</label><input id="v-content" type="file" name="content"></div>
<label for="v-key">Expected device key (optional, as fieldproof device prints it)</label><input id="v-key" type="text" name="expect-key" autocomplete="off" spellcheck="false">
<div data-verifier-output aria-live="polite"></div></section>`;
}
