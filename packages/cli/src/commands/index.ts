import type { Command } from '../command.js';
import { anchorsCommand } from './anchors.js';
import { apiCommand } from './api.js';
import { backupCommand } from './backup.js';
import { collectorKeyCommand } from './collector-key.js';
import { collectorCommand } from './collector.js';
import { deviceCommand } from './device.js';
import { devicesCommand } from './devices.js';
import { exportCommand } from './export.js';
import { keeperCommand } from './keeper.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { restoreCommand } from './restore.js';
import { startCommand } from './start.js';
import { verifyCommand } from './verify.js';

/** Every sub-command, in the order --help lists them. */
export const commands: readonly Command[] = [
  startCommand,
  apiCommand,
  migrateCommand,
  keeperCommand,
  keysCommand,
  deviceCommand,
  verifyCommand,
  exportCommand,
  anchorsCommand,
  backupCommand,
  restoreCommand,
  collectorCommand,
  collectorKeyCommand,
  devicesCommand,
];
