// Injected into the browser bundle: the `Buffer` global @fieldproof/note uses (base64, readUInt32BE).
export { Buffer } from 'buffer';
