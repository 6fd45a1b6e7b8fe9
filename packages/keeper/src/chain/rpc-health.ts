import { backoffDelay } from '../backoff.js';

/**
 * Whether a chain's RPC answers, tracked per chain. After a transport failure the chain backs off
 * (capped exponential with jitter) and its task reports "no work" until then, so an unreachable node
 * costs a handful of connection attempts, not a tight loop. `/readyz` fails once the RPC has been failing
 * longer than `rpcDownReadyMs`. `halted` marks a permanent chain problem (e.g. a chain id mismatch).
 */
export class RpcHealth {
  #failingSince: number | undefined;
  #failures = 0;
  #retryAt = 0;
  #lastError: string | undefined;
  #halted: string | undefined;
  #outages = 0;

  constructor(
    private readonly now: () => number,
    private readonly backoff: { readonly baseMs: number; readonly maxMs: number },
    private readonly random: () => number = Math.random,
  ) {}

  recordSuccess(): void {
    this.#failingSince = undefined;
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastError = undefined;
  }

  /** Records a transport failure; returns the delay before the chain is tried again. */
  recordFailure(message: string): number {
    const now = this.now();
    if (this.#failingSince === undefined) this.#outages += 1;
    this.#failingSince ??= now;
    this.#failures += 1;
    this.#lastError = message;
    const delay = backoffDelay(this.#failures, this.backoff.baseMs, this.backoff.maxMs, this.random);
    this.#retryAt = now + delay;
    return delay;
  }

  halt(reason: string): void {
    this.#halted = reason;
  }

  get halted(): string | undefined {
    return this.#halted;
  }

  /** True while the chain is backing off after a failure. */
  backingOff(): boolean {
    return this.now() < this.#retryAt;
  }

  get retryAt(): number {
    return this.#retryAt;
  }

  /** How many times the RPC went from answering to failing (a new outage may mean a different node). */
  get outages(): number {
    return this.#outages;
  }

  get failures(): number {
    return this.#failures;
  }

  /** How long the RPC has been failing (0 when it answers). */
  downForMs(): number {
    return this.#failingSince === undefined ? 0 : this.now() - this.#failingSince;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }
}
