// Attested outputs on the dev chain through @polkadot/api: a model served over HTTP on
// 127.0.0.1 is activated by the validator's off-chain vote (its checker key), a device's honest
// claim becomes Final, and a claim with a wrong output is caught by the validator's checker
// (its verdict read from the node's offchain storage).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import {
  mlp, outcomeKey, registerDevice, registerMlp, serveMlp, submitClaim, tamper,
} from './lib/claims.mjs';
import { startDevNode, waitFor } from './lib/node.mjs';

describe('attested outputs on edgeproof-node --dev', () => {
  let node;
  let api;
  let server;
  let bob;
  let checker;
  let modelId;

  before(async () => {
    await cryptoWaitReady();
    server = await serveMlp();
    node = await startDevNode();
    api = node.api;
    bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    // Alice's checker key: ed25519 from the same seed, under the `echk` key type.
    checker = new Keyring({ type: 'ed25519' }).addFromUri('//Alice');
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
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
    const registered = await registerMlp(api, bob, server.uri);
    modelId = registered.modelId;
    assert.equal(registered.status, 'Active');
    assert.ok(server.served.count >= 1, 'the validator fetched the file from the URI');
    const votes = await api.query.models.votes(modelId);
    assert.equal(votes.length, 0, 'votes are cleared once the model is decided');
    assert.ok(!(await api.query.models.pendingModels(modelId)).isSome);
  });

  it('finalises an honest claim and flags a wrong one', async () => {
    assert.ok(modelId, 'the model test ran');
    const device = new Keyring({ type: 'ed25519' }).addFromUri('//edgeproof-e2e-claims');
    await registerDevice(api, bob, device, 'e2e claims');
    const honest = await submitClaim(api, bob, device, modelId, [mlp.inputTensor], [mlp.outputTensor], 1);
    // The first output element plus one: far outside the tolerance.
    const wrong = await submitClaim(
      api, bob, device, modelId, [mlp.inputTensor], [tamper(mlp.outputTensor, 1.0)], 2,
    );

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
