import fs from 'node:fs';

/**
 * The installed fieldproof version: the root package.json's `version`. Read at call time from the
 * checkout (or install prefix) this CLI runs from — `packages/cli/dist/` is three levels below it,
 * and every install (install.sh, Dockerfile.arm64) ships that file beside `packages/`.
 */
export function fieldproofVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  if (manifest.name !== 'fieldproof' || typeof manifest.version !== 'string')
    throw new Error(`${file.pathname} is not fieldproof's package.json`);
  return manifest.version;
}

/** The `fieldproof --version` line: `fieldproof 0.1.0 (node v24.1.0)`. */
export function versionLine(): string {
  return `fieldproof ${fieldproofVersion()} (node ${process.version})`;
}
