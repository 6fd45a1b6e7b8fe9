import { describe, expect, it } from 'vitest';
import {
  NoteError,
  cosignedMessage,
  cosignerKeyIdOf,
  createCosigner,
  generateDeviceKey,
  openCheckpoint,
  parseCosignerKey,
  signCheckpoint,
  verifyCosignature,
} from '../src/index.js';

const device = generateDeviceKey('example.com/log/unit-7');
const witness = createCosigner(generateDeviceKey('witness.example.com/w1'));
const note = signCheckpoint(
  { origin: 'example.com/log/unit-7', treeSize: 5, root: new Uint8Array(32).fill(7) },
  device,
);
const text = note.slice(0, note.lastIndexOf('\n\n') + 1);

describe('C2SP tlog-cosignature/v1 (Ed25519)', () => {
  it('signs "cosignature/v1\\ntime <t>\\n" + the checkpoint body', () => {
    expect(new TextDecoder().decode(cosignedMessage(text, 1679315147))).toBe(
      `cosignature/v1\ntime 1679315147\n${text}`,
    );
  });

  it('has a type-0x04 key id and verifier key distinct from the signed-note ones', () => {
    const key = parseCosignerKey(witness.verifierKey);
    expect(key.keyId).toBe(cosignerKeyIdOf('witness.example.com/w1', witness.publicKey));
    expect(Buffer.from(witness.verifierKey.split('+')[2]!, 'base64')[0]).toBe(0x04);
    expect(() => parseCosignerKey(device.verifierKey)).toThrow(/0x04/);
  });

  it('a cosignature line appended to the note verifies, keeps the device signature valid, carries the time', () => {
    const cosig = witness.cosign(text, 1_700_000_000);
    const cosigned = note + cosig.line;
    expect(verifyCosignature(cosigned, witness.verifierKey)).toMatchObject({ timestamp: 1_700_000_000 });
    expect(openCheckpoint(cosigned, device.verifierKey).checkpoint.treeSize).toBe(5);
    // The field is key id (4) ‖ timestamp (8, big-endian) ‖ signature (64).
    const field = Buffer.from(cosig.line.trim().split(' ')[2]!, 'base64');
    expect(field.length).toBe(76);
    expect(field.readBigUInt64BE(4)).toBe(1_700_000_000n);
  });

  it('refuses a cosignature over another checkpoint, another time, or by another key', () => {
    const cosig = witness.cosign(text, 1_700_000_000);
    const other = signCheckpoint(
      { origin: 'example.com/log/unit-7', treeSize: 6, root: new Uint8Array(32).fill(7) },
      device,
    );
    expect(() => verifyCosignature(other + cosig.line, witness.verifierKey)).toThrow(NoteError);
    const field = Buffer.from(cosig.line.trim().split(' ')[2]!, 'base64');
    field.writeBigUInt64BE(1_700_000_001n, 4);
    const retimed = `— witness.example.com/w1 ${field.toString('base64')}\n`;
    expect(() => verifyCosignature(note + retimed, witness.verifierKey)).toThrow(/invalid cosignature/);
    const stranger = createCosigner(generateDeviceKey('witness.example.com/w1'));
    expect(() => verifyCosignature(note + cosig.line, stranger.verifierKey)).toThrow(/no cosignature/);
  });
});
