// Attested outputs on the dev chain through @polkadot/api: a model served over HTTP on
// 127.0.0.1 is activated by the validator's off-chain vote (its checker key), a device's honest
// claim becomes Final, and a claim with a wrong output is caught by the validator's checker
// (its verdict read from the node's offchain storage).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { bnToU8a, compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';

import { sendAndWaitInBlock, startDevNode, waitFor } from './lib/node.mjs';

const DATA = new URL('../../canon/tests/data/', import.meta.url);
const REGISTRATION = JSON.parse(
  readFileSync(new URL('./fixtures/mlp.registration.json', import.meta.url), 'utf8'),
);
const UNIT = 1_000_000_000_000n;
const F32 = 0;

/** The SCALE encoding of a `Vec<Tensor>` (docs/claim-format.md). */
export function encodeTensors(tensors) {
  return u8aConcat(
    compactToU8a(tensors.length),
    ...tensors.map(({ dtype, shape, data }) =>
      u8aConcat(
        new Uint8Array([dtype]),
        compactToU8a(shape.length),
        ...shape.map((d) => bnToU8a(d, { bitLength: 32 })),
        compactToU8a(data.length),
        data,
      ),
    ),
  );
}

/** The bytes a device signs for a claim (docs/claim-format.md). */
export function claimMessage(genesisHash, modelId, input, output, nonce) {
  return u8aConcat(
    stringToU8a('edgeproof/claim'),
    genesisHash,
    modelId,
    blake2AsU8a(input, 256),
    blake2AsU8a(output, 256),
    bnToU8a(nonce, { bitLength: 64 }),
  );
}

/** The offchain-storage key of the checker's outcome for a claim (pallet-attestations). */
function outcomeKey(claim) {
  return u8aToHex(u8aConcat(stringToU8a('edgeproof/checker/outcome/'), bnToU8a(claim, { bitLength: 64 })));
}

describe('attested outputs on edgeproof-node --dev', () => {
  let node;
  let api;
  let server;
  let alice;
  let bob;
  let checker;
  let device;
  let modelId;
  let served = 0;
  const onnx = readFileSync(new URL('mlp.onnx', DATA));
  const input = encodeTensors([
    { dtype: F32, shape: [1, 16], data: readFileSync(new URL('mlp.input_0.bin', DATA)) },
  ]);
  const outputData = readFileSync(new URL('mlp.output_0.bin', DATA));
  const output = encodeTensors([{ dtype: F32, shape: [1, 8], data: outputData }]);

  before(async () => {
    await cryptoWaitReady();
    server = createServer((req, res) => {
      if (req.url === '/mlp.onnx') {
        served += 1;
        res.writeHead(200, { 'content-length': onnx.length });
        res.end(onnx);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    node = await startDevNode();
    api = node.api;
    const sr = new Keyring({ type: 'sr25519' });
    alice = sr.addFromUri('//Alice');
    bob = sr.addFromUri('//Bob');
    // Alice's checker key: ed25519 from the same seed, under the `echk` key type.
    checker = new Keyring({ type: 'ed25519' }).addFromUri('//Alice');
    device = new Keyring({ type: 'ed25519' }).addFromUri('//edgeproof-e2e-claims');
  });

  after(async () => {
    if (node) await node.stop();
    if (server) server.close();
  });

  it('names the validator checker key as the checker in genesis', async () => {
    const checkers = await api.query.attestations.checkers();
    assert.deepEqual(checkers.map((c) => c.toString()), [checker.address]);
    const params = await api.query.attestations.params();
    assert.equal(params.challengePeriod.toNumber(), 5);
    const funds = await api.query.system.account(checker.address);
    assert.ok(funds.data.free.toBigInt() > 0n, 'the checker can pay fees');
  });

  it("activates a model served over HTTP by the validator's off-chain vote", async () => {
    const { port } = server.address();
    modelId = REGISTRATION.modelId;
    const params = {
      ...REGISTRATION,
      name: 'e2e-mlp',
      version: 1,
      uri: `http://127.0.0.1:${port}/mlp.onnx`,
    };
    const { events } = await sendAndWaitInBlock(api.tx.models.registerModel(params), bob);
    assert.ok(events.some(({ event }) => api.events.models.ModelRegistered.is(event)));

    const status = await waitFor(
      async () => {
        const record = (await api.query.models.models(modelId)).unwrap();
        return record.status.isPending ? null : record.status.toString();
      },
      90_000,
      'the off-chain vote',
    );
    assert.equal(status, 'Active');
    assert.ok(served >= 1, 'the validator fetched the file from the URI');
    // The vote came from the checker account, and no one else voted.
    const votes = await api.query.models.votes(modelId);
    assert.equal(votes.length, 0, 'votes are cleared once the model is decided');
    assert.ok(!(await api.query.models.pendingModels(modelId)).isSome);
  });

  it('finalises an honest claim and flags a wrong one', async () => {
    assert.ok(modelId, 'the model test ran');
    const key = { Ed25519: device.publicKey };
    const bind = u8aConcat(stringToU8a('edgeproof/bind'), api.genesisHash, bob.publicKey);
    await sendAndWaitInBlock(
      api.tx.devices.registerDevice(
        key,
        { Ed25519: device.sign(bind) },
        { hardware: 'Phone', description: 'e2e claims' },
        150n * UNIT,
      ),
      bob,
    );

    const submit = async (out, nonce) => {
      const signature = device.sign(claimMessage(api.genesisHash, modelId, input, out, nonce));
      // Payloads go in as hex: polkadot-js reads a Uint8Array given for `Bytes` as already
      // SCALE-encoded (length-prefixed).
      const call = api.tx.attestations.submit(
        key, modelId, u8aToHex(input), u8aToHex(out), nonce, { Ed25519: signature },
      );
      const { events } = await sendAndWaitInBlock(call, bob);
      const submitted = events.find(({ event }) => api.events.attestations.ClaimSubmitted.is(event));
      assert.ok(submitted, 'ClaimSubmitted');
      return submitted.event.data.claim.toNumber();
    };

    const honest = await submit(output, 1);
    // The first output element plus one: far outside the tolerance.
    const wrongData = Buffer.from(outputData);
    wrongData.writeFloatLE(wrongData.readFloatLE(0) + 1.0, 0);
    const wrong = await submit(encodeTensors([{ dtype: F32, shape: [1, 8], data: wrongData }]), 2);

    const outcome = async (claim) => {
      const raw = await api.rpc.offchain.localStorageGet('PERSISTENT', outcomeKey(claim));
      return raw.isSome ? raw.unwrap().toU8a(true) : null;
    };
    // CheckOutcome: 1 = Agrees, 3 = Wrong { trace_root, disputed }.
    const honestOutcome = await waitFor(() => outcome(honest), 60_000, 'the honest verdict');
    assert.equal(honestOutcome[0], 1, `honest claim: outcome ${u8aToHex(honestOutcome)}`);
    const wrongOutcome = await waitFor(() => outcome(wrong), 60_000, 'the wrong verdict');
    assert.equal(wrongOutcome[0], 3, `wrong claim: outcome ${u8aToHex(wrongOutcome)}`);
    assert.equal(wrongOutcome.length, 1 + 32 + 1);

    // The honest claim is Final after its challenge period (5 blocks) and its bond returned.
    const status = await waitFor(
      async () => {
        const record = await api.query.attestations.claims(honest);
        return record.isSome && record.unwrap().status.isFinal ? 'Final' : null;
      },
      90_000,
      'the honest claim to finalise',
    );
    assert.equal(status, 'Final');
    const viaApi = await api.call.attestationsApi.claim(honest);
    assert.equal(viaApi.unwrap().status.toString(), 'Final');
  });
});
