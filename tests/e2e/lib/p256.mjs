// P-256 device keys in JS, as a polkadot-js user would hold one: Node's WebCrypto-grade ECDSA
// (the signature as IEEE P1363 `r ‖ s`, which is what Edgeproof takes), low-S normalised.

import { createHash, generateKeyPairSync, sign } from 'node:crypto';

/** The order of the P-256 group. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
const to32 = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

/**
 * A fresh software P-256 key: `publicKey` is the 33-byte compressed point
 * (`DeviceKey::P256`), `sign(message)` the 64-byte low-S signature over SHA-256 of the message,
 * `signHighS(message)` the same signature with `s` replaced by `n − s` (valid ECDSA, refused),
 * `assertion(message, appId, counter)` the `DeviceSignature::AppAttest` an App Attest key of
 * the app `appId` gives on its `counter`-th `generateAssertion` over SHA-256 of the message.
 */
export function p256Device() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  const yBytes = Buffer.from(y, 'base64url');
  const compressed = Buffer.concat([
    Buffer.from([yBytes[yBytes.length - 1] & 1 ? 3 : 2]),
    Buffer.from(x, 'base64url'),
  ]);
  const raw = (message) => {
    const sig = sign('sha256', Buffer.from(message), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return { r: sig.subarray(0, 32), s: toBig(sig.subarray(32)) };
  };
  return {
    publicKey: new Uint8Array(compressed),
    sign(message) {
      const { r, s } = raw(message);
      return new Uint8Array(Buffer.concat([r, to32(s > N / 2n ? N - s : s)]));
    },
    signHighS(message) {
      const { r, s } = raw(message);
      return new Uint8Array(Buffer.concat([r, to32(s > N / 2n ? s : N - s)]));
    },
    assertion(message, appId, counter) {
      const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
      // rpIdHash ‖ flags (0) ‖ counter, big-endian: what generateAssertion returns.
      const counterBytes = Buffer.alloc(4);
      counterBytes.writeUInt32BE(counter);
      const authenticatorData = Buffer.concat([sha256(appId), Buffer.from([0]), counterBytes]);
      const nonce = sha256(authenticatorData, sha256(Buffer.from(message)));
      return { authenticatorData: new Uint8Array(authenticatorData), signature: this.sign(nonce) };
    },
  };
}
