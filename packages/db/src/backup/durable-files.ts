import fs from 'node:fs';

/**
 * `rename`, or — when `to` is on another file system (a data folder or key file elsewhere) — copy, fsync
 * and unlink. The caller fsyncs the folders involved.
 */
export function moveFile(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    const fd = fs.openSync(to, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(from);
  }
}

/** fsync a folder so that entries created, renamed or removed in it are durable. */
export function fsyncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not every platform can fsync a folder; the files themselves were fsynced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
