import type { Command } from '../command.js';
import { migrateCommand } from './migrate.js';

/** Every sub-command, in the order --help lists them. */
export const commands: readonly Command[] = [migrateCommand];
