import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './databases.js';

/** A mounted file system, and how to take it down again. */
export interface TestMount {
  readonly dir: string;
  unmount(): void;
}

/**
 * An exFAT file system through FUSE (`exfat-fuse`) on a loop device: no hard links, like the USB sticks
 * field units keep data on (and like FUSE layers). Mounted with `umask=0077`, as an operator mounts a
 * stick that holds a private key. Returns why not when it cannot be had here: it needs root, /dev/fuse,
 * a free loop device and `apt-get install exfatprogs exfat-fuse` (.ci/run installs them).
 */
export function mountExfat(sizeMiB = 32): TestMount | { readonly reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'mounting needs root' };
  if (!fs.existsSync('/dev/fuse')) return { reason: 'no /dev/fuse' };
  for (const tool of ['mkfs.exfat', 'mount.exfat-fuse', 'losetup', 'umount']) {
    if (!onPath(tool)) return { reason: `${tool} not found (apt-get install exfatprogs exfat-fuse)` };
  }
  const work = tempDir('fieldproof-exfat-');
  const image = path.join(work, 'exfat.img');
  const dir = path.join(work, 'mnt');
  fs.mkdirSync(dir);
  fs.writeFileSync(image, '');
  fs.truncateSync(image, sizeMiB * 1024 * 1024);
  let loop: string | undefined;
  let mounted = false;
  const unmount = () => {
    if (mounted) run('umount', [dir]);
    mounted = false;
    if (loop !== undefined) run('losetup', ['-d', loop]);
    loop = undefined;
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    run('mkfs.exfat', [image]);
    loop = run('losetup', ['-f', '--show', image]).trim();
    run('mount.exfat-fuse', ['-o', 'umask=0077', loop, dir]);
    mounted = true;
    fs.writeFileSync(path.join(dir, 'probe'), '');
    try {
      fs.linkSync(path.join(dir, 'probe'), path.join(dir, 'probe-link'));
      unmount();
      return { reason: 'the exFAT mount accepts hard links, so it proves nothing here' };
    } catch {
      fs.rmSync(path.join(dir, 'probe'));
    }
    return { dir, unmount };
  } catch (err) {
    try {
      unmount();
    } catch {
      // keep the first error
    }
    return {
      reason: `cannot mount exFAT: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((folder) => fs.existsSync(path.join(folder, tool)));
}
