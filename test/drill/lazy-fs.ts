import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Node side of test/drill/lazyfs.py, the fault-injecting FUSE layer of the power-loss drill (its
 * docstring says what becomes durable when; docs/DRILL.md says why). A `LazyFs` is one mount of a backing
 * folder: `powerCut` freezes what the "disk" holds, SIGKILLs the processes given (a real power cut kills
 * them too, and a FUSE mount with open files cannot be unmounted), unmounts and mounts again, which
 * rebuilds the folder from what was durable.
 *
 * Needs root, /dev/fuse and Debian's python3-fusepy (`apt-get install -y python3-fusepy`, which brings
 * libfuse2; `fuse` or `fuse3` for the mount helper), run by /usr/bin/python3: see `lazyFsUnavailable`.
 */

const LAYER = fileURLToPath(new URL('./lazyfs.py', import.meta.url));
/** Debian's python, where python3-fusepy is installed (a pyenv python on PATH would not see it). */
const PYTHON = '/usr/bin/python3';

/** Why the layer cannot run here, or undefined when it can. */
export function lazyFsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (mounting FUSE needs root here)';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  const probe = spawnSync(PYTHON, ['-c', 'import fusepy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import fusepy (apt-get install -y python3-fusepy)`;
  return undefined;
}

export interface LazyFs {
  /** Where processes read and write. */
  readonly mountPoint: string;
  /** The layer's own folder: `live/` (what the mount shows) and `durable/` (what a cut keeps). */
  readonly backing: string;
  /** How many power cuts so far. */
  readonly cuts: number;
  /** sync(2): everything becomes durable as it is now (e.g. after setting up, as an orderly boot would). */
  sync(): Promise<void>;
  /**
   * Cuts power: freezes the durable state (from then on every operation fails with EIO), SIGKILLs
   * `victims` and waits for them, unmounts, and mounts again from the durable state. Every process with
   * a file open on the mount must be among `victims`.
   */
  powerCut(victims?: readonly ChildProcess[]): Promise<void>;
  /** The layer's counters (fsyncs, bytes synced, …). */
  stats(): Promise<Record<string, unknown>>;
  /** A clean shutdown: everything is synced, then unmounted. */
  unmount(): Promise<void>;
}

/**
 * Mounts the layer on `mountPoint` (created if missing) over `backing`. A `backing` folder used before
 * boots from its durable state; a new one starts empty.
 */
export async function mountLazyFs(options: { backing: string; mountPoint: string }): Promise<LazyFs> {
  const backing = path.resolve(options.backing);
  const mountPoint = path.resolve(options.mountPoint);
  const socketPath = path.join(backing, 'control.sock');
  fs.mkdirSync(backing, { recursive: true });
  fs.mkdirSync(mountPoint, { recursive: true });
  let layer = await startLayer(backing, mountPoint, socketPath);
  let cuts = 0;

  async function unmountLayer(): Promise<void> {
    execFileSync('umount', [mountPoint], { stdio: ['ignore', 'ignore', 'pipe'] });
    await layer.exited;
  }

  return {
    mountPoint,
    backing,
    get cuts() {
      return cuts;
    },
    async sync() {
      await control(socketPath, 'sync');
    },
    async powerCut(victims = []) {
      await control(socketPath, 'cut');
      await Promise.all(victims.map(killHard));
      try {
        await unmountLayer();
      } catch (err) {
        throw new Error(
          `cannot unmount ${mountPoint} after the cut (still open by: ${holdersOf(mountPoint).join(', ') || 'nobody?'})`,
          { cause: err },
        );
      }
      cuts++;
      layer = await startLayer(backing, mountPoint, socketPath);
    },
    async stats() {
      return JSON.parse(await control(socketPath, 'stats')) as Record<string, unknown>;
    },
    async unmount() {
      if (layer.child.exitCode === null) await unmountLayer();
    },
  };
}

interface Layer {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

async function startLayer(backing: string, mountPoint: string, socketPath: string): Promise<Layer> {
  const child = spawn(PYTHON, [LAYER, backing, mountPoint, socketPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lazyfs did not mount within 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
      if (output.includes('lazyfs: ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`lazyfs exited before mounting:\n${output}`));
    });
  });
  return { child, exited };
}

/** Sends one command line to the layer's control socket; resolves with its answer, throws on `error:`. */
function control(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (d: string) => {
      answer += d;
      if (!answer.includes('\n')) return;
      socket.end();
      const line = answer.trim();
      if (line.startsWith('error')) reject(new Error(`lazyfs ${command}: ${line}`));
      else resolve(line);
    });
    socket.on('error', reject);
  });
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Pids of processes with a file, cwd or mapping under `folder` (for the error when unmounting fails). */
function holdersOf(folder: string): string[] {
  const holders: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const links = fs.readdirSync(`/proc/${pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      links.push(fs.readlinkSync(`/proc/${pid}/cwd`));
      if (links.some((l) => l === folder || l.startsWith(`${folder}/`))) holders.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return holders;
}
