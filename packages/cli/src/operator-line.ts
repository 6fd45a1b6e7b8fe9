import { LegacyDataConflictError, configErrorLine } from '@fieldproof/config';
import {
  BackupError,
  DatabaseNewerThanCodeError,
  MigrationChecksumError,
  RestoreError,
} from '@fieldproof/db';

/** The one-line form of errors that are the operator's to fix (configuration, migrations). */
export function operatorLine(err: unknown): string | undefined {
  const config = configErrorLine(err);
  if (config !== undefined) return config;
  if (err instanceof MigrationChecksumError || err instanceof DatabaseNewerThanCodeError) {
    return `fieldproof: refusing to start: ${err.message}`;
  }
  if (err instanceof BackupError || err instanceof RestoreError || err instanceof LegacyDataConflictError)
    return `fieldproof: ${err.message}`;
  return undefined;
}
