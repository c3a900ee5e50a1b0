// The e2e tests' own leaf hash (tests/e2e/lib/claims.mjs, used to build a lying challenger's
// trace) against the worked examples of docs/canonical-executor.md, "Chunked commitments",
// which the Rust test chunk::tests::leaf_hashes_match_the_documented_examples asserts too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { leafHash } from './lib/claims.mjs';

test('the leaf hash is the documented chunked commitment', async () => {
  await cryptoWaitReady();
  // F32 [2] = 1.0, NaN (already canonical): one chunk.
  const oneChunk = { dtype: 0, shape: [2], data: new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f]) };
  assert.equal(
    u8aToHex(leafHash(oneChunk)),
    '0x1bf988c7fff96447b46232c25e5befdb8e2fbbd01e6075069f953e980a09bf48',
  );
  // U8 [8193] of zeros: chunks of 4096, 4096 and 1 bytes, padded to four leaves.
  const threeChunks = { dtype: 3, shape: [8193], data: new Uint8Array(8193) };
  assert.equal(
    u8aToHex(leafHash(threeChunks)),
    '0x03923138598966a7dc68adfd499609d0ab10987e7b01a41e86f26bc098fc5e8c',
  );
});
