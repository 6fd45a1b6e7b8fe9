import { rootFromFrontier, toHex } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';

/** Devices whose last appended frontier a {@link FrontierCache} keeps unless told otherwise. */
const DEFAULT_MAX_DEVICES = 10_000;

/**
 * The frontier of the head this process last appended, per device, so that the next push continuing it
 * needs no read of it (a round trip per push on PostgreSQL). An entry is used only for the size and root
 * the database gives as the device's head, and only if the entry's own frontier rebuilds that root: a
 * frontier determines its root, so another frontier with the same root would be a SHA-256 collision. A
 * stale entry (another replica moved the head, a restored database) is therefore never used, only
 * replaced. Holds popcount(size) hashes per device, for at most `maxDevices` devices (oldest dropped).
 */
export class FrontierCache {
  readonly #entries = new Map<string, { readonly treeSize: number; readonly frontier: readonly Hash[] }>();

  constructor(readonly maxDevices = DEFAULT_MAX_DEVICES) {}

  /** The frontier of `deviceId` at `treeSize` whose root is `rootHash` (hex), if this process holds it. */
  get(deviceId: string, treeSize: number, rootHash: string | null): readonly Hash[] | undefined {
    const entry = this.#entries.get(deviceId);
    if (entry === undefined || entry.treeSize !== treeSize) return undefined;
    return rootHash !== null && toHex(rootFromFrontier(entry.frontier)) === rootHash
      ? entry.frontier
      : undefined;
  }

  set(deviceId: string, treeSize: number, frontier: readonly Hash[]): void {
    this.#entries.delete(deviceId);
    this.#entries.set(deviceId, { treeSize, frontier });
    if (this.#entries.size > this.maxDevices) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
