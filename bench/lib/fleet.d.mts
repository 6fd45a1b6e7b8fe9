// Types of fleet.mjs for the TypeScript tests that drive it (test/collector-replicas.test.ts).
import type { DeviceKey } from '@fieldproof/note';
import type { MemoryTree } from '@fieldproof/merkle';
import type { EvidenceRecord } from '@fieldproof/receipt';

export function seededRandom(seed: number): () => number;

export class FleetUnit {
  constructor(origin: string);
  readonly key: DeviceKey;
  readonly origin: string;
  readonly tree: MemoryTree;
  readonly checkpoints: Map<number, string>;
  /** Every leaf as pushed, by leaf index, with the record it encodes. */
  readonly leaves: { leafIndex: number; leafHash: string; content: boolean; record: EvidenceRecord }[];
  acked: number;
  pushKey: string;
  cosignature: string;
  record(count: number): number;
}

export interface Replicas {
  readonly witnessKey: string;
  /** The fleet log's note verifier key (`fieldproof collector-key --json`'s fleetKey). */
  readonly fleetKey: string;
  readonly urls: string[];
  pids(): number[];
  kill(i: number): Promise<unknown>;
  restart(i: number): Promise<void>;
  stopAll(): Promise<void>;
}

export function startReplicas(options: {
  count: number;
  dbUrl: string;
  dataDir: string;
  poolMax?: number;
  logLevel?: string;
  onLine?: (replica: number, line: string) => void;
  /** More settings for every replica (KEEPER_* for fleet anchoring). */
  env?: Record<string, string>;
}): Promise<Replicas>;

export function killAtRandom(
  replicas: Replicas,
  options: { count: number; random: () => number; minMs: number; spreadMs: number; pauseMs: number },
): { stop(): Promise<string[]>; made(): number };

export function pushRounds(
  units: readonly FleetUnit[],
  options: { rounds: number; maxRecords: number; pauseMs: number; replicas: Replicas; random: () => number },
): Promise<FleetStats>;

export function enrollFleet(dbUrl: string, units: readonly FleetUnit[]): Promise<void>;

export interface FleetStats {
  pushes: number;
  appended: number;
  retries: number;
  gaps: number;
}

export function pushUnit(
  unit: FleetUnit,
  options: { urls: readonly string[]; witnessKey: string; random: () => number; stats: FleetStats },
): Promise<number>;

export function newStats(): FleetStats;
export function percentile(xs: readonly number[], p: number): number | undefined;
