// Claims through @polkadot/api: the SCALE payloads and signed message of docs/claim-format.md,
// the fixture MLP served over HTTP and activated by the validators' vote, devices, submission.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { bnToU8a, compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

import { sendAndWaitInBlock, waitFor } from './node.mjs';

export const UNIT = 1_000_000_000_000n;
export const F32 = 0;
const DATA = new URL('../../../canon/tests/data/', import.meta.url);
const REGISTRATION = JSON.parse(
  readFileSync(new URL('../fixtures/mlp.registration.json', import.meta.url), 'utf8'),
);

/**
 * The id of `owner`'s registration of `params` (docs/pallets/models.md, "Model ids"):
 * blake2-256 of the SCALE tuple ("edgeproof/model" as 15 bytes, file hash, owner account,
 * inputs, outputs, tolerance).
 */
export function modelIdOf(api, owner, params) {
  const encoded = api.createType(api.tx.models.registerModel.meta.args[0].type.toString(), params);
  return u8aToHex(blake2AsU8a(u8aConcat(
    stringToU8a('edgeproof/model'),
    encoded.fileHash.toU8a(),
    api.createType('AccountId32', owner).toU8a(),
    encoded.inputs.toU8a(),
    encoded.outputs.toU8a(),
    encoded.tolerance.toU8a(),
  ), 256));
}

/**
 * The SCALE encoding of a tensor header (canon's `TensorHeader`: dtype index, shape, byte
 * length): what a `Tensor`'s encoding starts with and what a leaf hash commits to.
 */
export function encodeHeader({ dtype, shape, dataLen }) {
  return u8aConcat(
    new Uint8Array([dtype]),
    compactToU8a(shape.length),
    ...shape.map((d) => bnToU8a(d, { bitLength: 32 })),
    compactToU8a(dataLen),
  );
}

/** The SCALE encoding of one `Tensor` (docs/claim-format.md). */
export function encodeTensor({ dtype, shape, data }) {
  return u8aConcat(encodeHeader({ dtype, shape, dataLen: data.length }), data);
}

/** The SCALE encoding of a `Vec<Tensor>`: a claim payload. */
export function encodeTensors(tensors) {
  return u8aConcat(compactToU8a(tensors.length), ...tensors.map(encodeTensor));
}

/** An inner node of a trace tree. */
export function hashPair(left, right) {
  return blake2AsU8a(u8aConcat(left, right), 256);
}

/** Bytes per data chunk of a leaf hash (`edgeproof_canon::CHUNK_BYTES`). */
export const CHUNK_BYTES = 4096;

/**
 * A Merkle tree over `leaves`, padded with zero hashes to a power of two (as canon's
 * `MerkleTree`): its root, leaves, the children of any node (`depth`, `index`, hex) and the
 * proof of any leaf.
 */
export function merkleTree(leaves) {
  const ZERO = new Uint8Array(32);
  const width = 1 << Math.ceil(Math.log2(Math.max(leaves.length, 1)));
  const levels = [[...leaves, ...Array(width - leaves.length).fill(ZERO)]];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above = [];
    for (let i = 0; i < below.length; i += 2) above.push(hashPair(below[i], below[i + 1]));
    levels.push(above);
  }
  const depth = levels.length - 1;
  return {
    root: levels[depth][0],
    leaf: (i) => levels[0][i],
    children: (d, i) => [u8aToHex(levels[depth - d - 1][2 * i]), u8aToHex(levels[depth - d - 1][2 * i + 1])],
    proof: (index) => ({
      index,
      siblings: levels.slice(0, -1).map((level, d) => u8aToHex(level[(index >> d) ^ 1])),
    }),
  };
}

/** The leaf hash of a tensor of `header` whose data has the Merkle root `dataRoot`. */
export function headerLeaf(header, dataRoot) {
  return blake2AsU8a(u8aConcat(encodeHeader(header), dataRoot), 256);
}

/**
 * A trace leaf hash (docs/canonical-executor.md, "Chunked commitments"): blake2-256 of the
 * tensor's SCALE header (dtype, shape, byte length) and the Merkle root of its data in 4 KiB
 * chunks (no NaNs here to canonicalise).
 */
export function leafHash({ dtype, shape, data }) {
  const chunks = [];
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    chunks.push(blake2AsU8a(data.subarray(at, at + CHUNK_BYTES), 256));
  }
  return headerLeaf({ dtype, shape, dataLen: data.length }, merkleTree(chunks).root);
}

/** The SCALE encoding of a `DeviceKey` given as `{ Ed25519: publicKey }` or `{ Sr25519: … }`. */
export function encodeDeviceKey(key) {
  if (key.Ed25519) return u8aConcat(new Uint8Array([0]), key.Ed25519);
  if (key.Sr25519) return u8aConcat(new Uint8Array([1]), key.Sr25519);
  if (key.P256) return u8aConcat(new Uint8Array([3]), key.P256);
  throw new Error(`not a device key: ${JSON.stringify(key)}`);
}

/**
 * The bytes a device key signs to bind itself to `operatorPublicKey`: "edgeproof/bind" ++
 * genesis hash ++ operator account id ++ the key's registration nonce, u32 LE
 * (docs/pallets/devices.md).
 */
export function bindMessage(genesisHash, operatorPublicKey, nonce) {
  return u8aConcat(
    stringToU8a('edgeproof/bind'),
    genesisHash,
    operatorPublicKey,
    bnToU8a(nonce, { bitLength: 32 }),
  );
}

/** The registration nonce the next bind proof of `key` must sign (0 for a new key). */
export async function bindNonce(api, key) {
  return (await api.query.devices.keyHistories(key)).nextNonce.toNumber();
}

/** The bytes device `deviceKey` signs for a claim (docs/claim-format.md). */
export function claimMessage(genesisHash, deviceKey, modelId, input, output, nonce) {
  return u8aConcat(
    stringToU8a('edgeproof/claim'),
    genesisHash,
    encodeDeviceKey(deviceKey),
    modelId,
    blake2AsU8a(input, 256),
    blake2AsU8a(output, 256),
    bnToU8a(nonce, { bitLength: 64 }),
  );
}

/** The offchain-storage key of a validator checker's verdict on a claim (pallet-attestations). */
export function outcomeKey(claim) {
  return u8aToHex(
    u8aConcat(stringToU8a('edgeproof/checker/outcome/'), bnToU8a(claim, { bitLength: 64 })),
  );
}

/** The fixture MLP's files: ONNX bytes, the seeded input and onnxruntime's output. */
export const mlp = {
  onnx: readFileSync(new URL('mlp.onnx', DATA)),
  inputTensor: { dtype: F32, shape: [1, 16], data: readFileSync(new URL('mlp.input_0.bin', DATA)) },
  outputTensor: { dtype: F32, shape: [1, 8], data: readFileSync(new URL('mlp.output_0.bin', DATA)) },
  registration: REGISTRATION,
};

/** An f32 tensor of `shape` whose element `i` is `valueOf(i)`. */
export function f32Tensor(shape, valueOf) {
  const count = shape.reduce((a, d) => a * d, 1);
  const values = Float32Array.from({ length: count }, (_, i) => valueOf(i));
  return { dtype: F32, shape, data: Buffer.from(values.buffer) };
}

/** `tensor` with `delta` added to its first f32 element. */
export function tamper(tensor, delta) {
  const data = Buffer.from(tensor.data);
  data.writeFloatLE(data.readFloatLE(0) + delta, 0);
  return { ...tensor, data };
}

/** Serves the fixture MLP at `/mlp.onnx` on 127.0.0.1; `stop()` when done. */
export async function serveMlp() {
  const served = { count: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/mlp.onnx') {
      served.count += 1;
      res.writeHead(200, { 'content-length': mlp.onnx.length });
      res.end(mlp.onnx);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    uri: `http://127.0.0.1:${port}/mlp.onnx`,
    served,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Registers the fixture MLP (signed by `owner`) at `uri` and waits until the validators' vote
 * decides it; returns its status ('Active' expected) and id.
 */
export async function registerMlp(api, owner, uri, { name = 'e2e-mlp', timeoutMs = 90_000 } = {}) {
  const params = { ...REGISTRATION, name, version: 1, uri };
  const { events } = await sendAndWaitInBlock(api.tx.models.registerModel(params), owner);
  const registered = events.find(({ event }) => api.events.models.ModelRegistered.is(event));
  assert.ok(registered, 'ModelRegistered');
  const modelId = registered.event.data.model.toHex();
  assert.equal(modelId, modelIdOf(api, owner.address, params), 'the documented model id');
  const status = await waitFor(
    async () => {
      const record = (await api.query.models.models(modelId)).unwrap();
      return record.status.isPending ? null : record.status.toString();
    },
    timeoutMs,
    'the off-chain vote',
  );
  return { modelId, status };
}

/** Registers `device` (an ed25519 keyring pair) under `operator` with 150 EDGE of stake. */
export async function registerDevice(api, operator, device, description = 'e2e device') {
  const key = { Ed25519: device.publicKey };
  const bind = bindMessage(api.genesisHash, operator.publicKey, await bindNonce(api, key));
  await sendAndWaitInBlock(
    api.tx.devices.registerDevice(
      key,
      { Ed25519: device.sign(bind) },
      { hardware: 'Phone', description },
      150n * UNIT,
    ),
    operator,
  );
  return key;
}

/** Submits a claim of `device` (operated by `operator`) and returns its id. */
export async function submitClaim(api, operator, device, modelId, inputTensors, outputTensors, nonce) {
  const input = encodeTensors(inputTensors);
  const output = encodeTensors(outputTensors);
  const key = { Ed25519: device.publicKey };
  const signature = device.sign(claimMessage(api.genesisHash, key, modelId, input, output, nonce));
  // Payloads go in as hex: polkadot-js reads a Uint8Array given for `Bytes` as already
  // SCALE-encoded (length-prefixed).
  const call = api.tx.attestations.submit(
    key,
    modelId,
    u8aToHex(input),
    u8aToHex(output),
    nonce,
    { Ed25519: signature },
  );
  const { events } = await sendAndWaitInBlock(call, operator);
  const submitted = events.find(({ event }) => api.events.attestations.ClaimSubmitted.is(event));
  assert.ok(submitted, 'ClaimSubmitted');
  return submitted.event.data.claim.toNumber();
}

/** Waits for an event matching `filter` in a new block; resolves to the event. */
export async function waitForEvent(api, filter, timeoutMs, what) {
  let unsubscribe = () => {};
  const found = new Promise((resolve) => {
    api.query.system
      .events((records) => {
        const hit = records.find(({ event }) => filter(event));
        if (hit) resolve(hit.event);
      })
      .then((u) => (unsubscribe = u));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/**
 * A liar's made-up trace: `leaves` = m + n leaves (the fixture MLP's 5 unless given; padded
 * with zero hashes to a power of two) with the one input leaf right, `output` as the last node
 * and every other node leaf invented (blake2-256 of `fill` and the leaf's index). Returns its
 * root, the witness of the output leaf against it, and the children of any tree node, which is
 * all a liar needs to play the bisection: it agrees with an honest trace on the input only, so
 * the game descends to the first node.
 */
export function madeUpTrace(input, output, fill = 1, leaves = 5) {
  const invented = (i) => blake2AsU8a(u8aConcat(new Uint8Array([fill]), bnToU8a(i, { bitLength: 32 })), 256);
  const tree = merkleTree(Array.from({ length: leaves }, (_, i) => {
    if (i === 0) return leafHash(input);
    return i === leaves - 1 ? leafHash(output) : invented(i);
  }));
  return {
    root: u8aToHex(tree.root),
    witness: {
      tensor: { dtype: output.dtype, shape: output.shape, data: u8aToHex(output.data) },
      proof: tree.proof(leaves - 1),
    },
    children: tree.children,
  };
}

/**
 * Plays `side` ('claimant' or 'challenger') of `dispute` from a made-up `trace`: answers every
 * bisection round until the game leaves the bisection (awaits its one-step, or is over).
 */
export async function answerBisections(api, signer, dispute, trace, side, onRound = () => {}) {
  const moveOf = side === 'claimant' ? 'claimantMove' : 'challengerMove';
  for (;;) {
    const stored = await api.query.disputes.disputes(dispute);
    if (stored.isNone) return;
    const phase = stored.unwrap().game.phase;
    if (phase.isAwaitingOneStep || phase.isResolved) return;
    if (!phase.isBisection || phase.asBisection[moveOf].isSome) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    const { position } = phase.asBisection;
    const round = position.depth.toNumber();
    const [left, right] = trace.children(round, position.index.toNumber());
    await sendAndWaitInBlock(api.tx.disputes.bisect(dispute, round, left, right), signer);
    onRound(round);
  }
}
