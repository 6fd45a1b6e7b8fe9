// Bit arithmetic on tree sizes and indices. JS bitwise operators truncate to 32 bits, but sizes go up to
// 2^53 − 1, so every helper splits a safe integer into high and low 32-bit words (exact: division by a
// power of two only changes a double's exponent) and works on the words.
//
// Preconditions for all: arguments are safe integers ≥ 0 (the public entry points validate them).

const WORD = 2 ** 32;

function high(n: number): number {
  return Math.floor(n / WORD);
}

function low(n: number): number {
  return n % WORD;
}

function popCount32(x: number): number {
  let v = x >>> 0;
  let count = 0;
  while (v !== 0) {
    v &= v - 1; // clears the lowest set bit
    count++;
  }
  return count;
}

/** Number of bits needed to write `n`; 0 for 0 (Go's `bits.Len64`). */
export function bitLength(n: number): number {
  const hi = high(n);
  return hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(n);
}

/** Number of set bits (Go's `bits.OnesCount64`). */
export function popCount(n: number): number {
  return popCount32(high(n)) + popCount32(low(n));
}

/** Number of trailing zero bits. Precondition: `n > 0`. */
export function trailingZeros(n: number): number {
  const lo = low(n);
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = high(n);
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** `a XOR b`. */
export function xor(a: number, b: number): number {
  return ((high(a) ^ high(b)) >>> 0) * WORD + ((low(a) ^ low(b)) >>> 0);
}

/** `n >> k`, exact for any safe integer (unlike `>>`, which is 32-bit). */
export function shiftRight(n: number, k: number): number {
  return Math.floor(n / 2 ** k);
}

/** Whether bit `k` of `n` is set. */
export function bitAt(n: number, k: number): boolean {
  return shiftRight(n, k) % 2 === 1;
}
