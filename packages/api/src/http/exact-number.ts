/**
 * At most 15 digits and no exponent: every such decimal comes back from a double unchanged (a double
 * keeps 15 significant decimal digits, DBL_DIG), so the exact check is skipped for the common case.
 */
const SHORT_DECIMAL = /^-?[0-9]{1,15}$|^-?(?=[0-9.]{3,16}$)[0-9]+\.[0-9]+$/;
const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/**
 * Whether the JSON number text `raw` is held exactly by the IEEE 754 double JSON.parse makes of it — that
 * is, whether the double's shortest decimal form (what RFC 8785 writes) is the same number as `raw`.
 * False for what would be silently rounded: integers past 2^53 such as 9007199254740993, more significant
 * digits than a double keeps (1.00000000000000000001), overflow (1e400) and underflow (1e-400). Exactly
 * representable values are true however written (1e21, 1.50, 2^53). This is I-JSON's rule (RFC 7493
 * §2.2: no number with greater magnitude or precision than a double).
 *
 * Precondition: `raw` is a JSON number (RFC 8259 §6).
 */
export function isExactNumber(raw: string): boolean {
  if (SHORT_DECIMAL.test(raw)) return true;
  const value = Number(raw);
  return Number.isFinite(value) && normalDecimal(raw) === normalDecimal(String(value));
}

/**
 * A decimal as `[-]digitsEexponent` with no leading or trailing zeros in `digits`, so that two texts of
 * the same number are equal strings (`1.50` and `15e-1` both `15E-1`); every zero is `0` (-0 is 0: RFC
 * 8785 writes both as `0`).
 */
function normalDecimal(text: string): string {
  const match = DECIMAL.exec(text);
  if (match === null) return text;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  // BigInt: an exponent may have more digits than a double holds exactly ("1e-99999999999999999999").
  const scale = BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${sign}${significant}E${scale}`;
}
