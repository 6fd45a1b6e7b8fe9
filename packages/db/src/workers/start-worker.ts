import { Worker } from 'node:worker_threads';

/**
 * The one way fieldproof starts a worker thread: from the module named `name` beside the caller's
 * module (`from`: its `import.meta.url`). Running from sources (tests) that is the `.ts` file, which Node
 * runs by stripping its types, so a worker module and everything it imports use erasable syntax only and
 * name relative imports by their `.ts` file (tsc rewrites them to `.js`: rewriteRelativeImportExtensions).
 * Running from dist it is the compiled `.js`.
 */
export function startWorker(from: string, name: string, workerData: unknown): Worker {
  const extension = from.endsWith('.ts') ? '.ts' : '.js';
  return new Worker(new URL(`./${name}${extension}`, from), { workerData });
}
