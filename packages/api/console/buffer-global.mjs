// Injected into the browser bundle: the `Buffer` global @fieldproof/note uses (base64, readUInt32BE).
// The `buffer` package predates Node's 'base64url' encoding, which note's ed25519.ts uses for JWK keys:
// added here on top of its base64.
import { Buffer } from 'buffer';

const toString = Buffer.prototype.toString;
Buffer.prototype.toString = function (encoding, ...rest) {
  if (encoding !== 'base64url') return toString.call(this, encoding, ...rest);
  return toString.call(this, 'base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const from = Buffer.from;
Buffer.from = function (value, encoding, ...rest) {
  if (typeof value === 'string' && encoding === 'base64url') {
    return from.call(Buffer, value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  return from.call(Buffer, value, encoding, ...rest);
};

export { Buffer };
