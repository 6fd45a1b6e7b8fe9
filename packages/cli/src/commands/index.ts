import type { CommandEntry } from '../command.js';

/**
 * Every sub-command, in the order --help lists them. Each is loaded only when it runs (or shows its own
 * --help): `fieldproof --help` then costs a few small modules, and a process runs only the code of its
 * command — `fieldproof verify` never loads the keeper, `fieldproof api` never loads ethers.
 */
export const commands: readonly CommandEntry[] = [
  {
    name: 'start',
    summary: 'run the api and the keeper together (what `npm start` runs)',
    load: async () => (await import('./start.js')).startCommand,
  },
  {
    name: 'api',
    summary: 'run the HTTP api until SIGTERM/SIGINT (then finish requests and commits, exit 0)',
    load: async () => (await import('./api.js')).apiCommand,
  },
  {
    name: 'migrate',
    summary: 'apply pending database migrations, or show their status',
    load: async () => (await import('./migrate.js')).migrateCommand,
  },
  {
    name: 'keeper',
    summary: 'run the keeper: sequence evidence into the log, sign checkpoints, anchor them, serve health',
    load: async () => (await import('./keeper.js')).keeperCommand,
  },
  {
    name: 'keys',
    summary: 'create, list and revoke API keys (works offline, before or while the api runs)',
    load: async () => (await import('./keys.js')).keysCommand,
  },
  {
    name: 'device',
    summary: "print this device's verifier key (C2SP vkey) and its log's checkpoint origin",
    load: async () => (await import('./device.js')).deviceCommand,
  },
  {
    name: 'verify',
    summary: 'verify a receipt or a bundle of receipts offline (and on chain with --rpc), or log consistency',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  {
    name: 'export',
    summary: 'write a bundle of receipts (by time range, kind, or all) for an auditor',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'anchors',
    summary: 'list anchor jobs (the outbox) and re-queue a dead-lettered one',
    load: async () => (await import('./anchors.js')).anchorsCommand,
  },
  {
    name: 'status',
    summary: "one screen of the unit's health: processes, backlog, anchors, collectors, backup, disk, clock",
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'backup',
    summary: 'write one checked archive of the database, its content and the device key (safe while running)',
    load: async () => (await import('./backup.js')).backupCommand,
  },
  {
    name: 'restore',
    summary: 'put a backup back: database, content and device key (the api and keeper must be stopped)',
    load: async () => (await import('./restore.js')).restoreCommand,
  },
  {
    name: 'collector',
    summary: "run the fleet collector: mirror, verify and cosign enrolled units' logs until SIGTERM/SIGINT",
    load: async () => (await import('./collector.js')).collectorCommand,
  },
  {
    name: 'collector-key',
    summary: "print the collector's witness verifier key (C2SP cosignature/v1 vkey)",
    load: async () => (await import('./collector-key.js')).collectorKeyCommand,
  },
  {
    name: 'devices',
    summary: 'enroll, list and revoke the units that push to this collector (COLLECTOR_DB_URL)',
    load: async () => (await import('./devices.js')).devicesCommand,
  },
];
