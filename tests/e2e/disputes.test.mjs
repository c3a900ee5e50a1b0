// The challenge game on the dev chain through @polkadot/api: a wrong claim is caught by the
// validator's checker, which opens a dispute and wins it (the silent claimant runs out of
// time); the claim is Invalid and the device slashed. And an honest claim of an operator whose
// key the node holds survives a lying challenger: the node defends it on its own. The node's
// Prometheus metrics count all of it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import {
  madeUpTrace, mlp, registerDevice, registerMlp, serveMlp, submitClaim, tamper, waitForEvent, UNIT,
} from './lib/claims.mjs';
import { sendAndWaitInBlock, startDevNode, waitFor } from './lib/node.mjs';

/** Blocks for a dispute to settle on the dev chain (10-block clocks), with room to spare. */
const SETTLE_MS = 150_000;

describe('disputes on edgeproof-node --dev', () => {
  let node;
  let api;
  let server;
  let bob;
  let checker;
  let modelId;

  before(async () => {
    await cryptoWaitReady();
    server = await serveMlp();
    node = await startDevNode({ prometheus: true });
    api = node.api;
    bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    checker = new Keyring({ type: 'ed25519' }).addFromUri('//Alice');
    const registered = await registerMlp(api, bob, server.uri);
    assert.equal(registered.status, 'Active');
    modelId = registered.modelId;
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
  });

  it('catches a wrong claim: dispute opened by the checker, won, device slashed', async () => {
    const device = new Keyring({ type: 'ed25519' }).addFromUri('//edgeproof-e2e-liar');
    const key = await registerDevice(api, bob, device, 'e2e liar');
    const stakeBefore = (await api.query.devices.devices(key)).unwrap().stake.toBigInt();

    const opened = waitForEvent(
      api, (e) => api.events.disputes.DisputeOpened.is(e), 60_000, 'DisputeOpened',
    );
    const claim = await submitClaim(
      api, bob, device, modelId, [mlp.inputTensor], [tamper(mlp.outputTensor, 0.5)], 1,
    );
    const open = await opened;
    assert.equal(open.data.claim.toNumber(), claim);
    assert.equal(open.data.challenger.toString(), checker.address, 'the checker key disputes');
    assert.equal(open.data.claimant.toString(), bob.address);
    const dispute = open.data.dispute.toNumber();

    // Readable while it runs: the claimant owes the response.
    const view = (await api.call.disputesApi.dispute(dispute)).unwrap();
    assert.ok(view.claimantOwes.isTrue && view.challengerOwes.isFalse);
    assert.ok((await api.query.attestations.claims(claim)).unwrap().status.isDisputed);

    // Nobody answers for the device: its clock runs out and the checker ends the game.
    const resolved = await waitForEvent(
      api,
      (e) => api.events.disputes.DisputeResolved.is(e) && e.data.dispute.toNumber() === dispute,
      SETTLE_MS,
      'DisputeResolved',
    );
    const ending = resolved.data.ending.asDecided;
    assert.equal(ending.winner.toString(), 'Challenger');
    assert.ok(ending.reason.isTimeout);
    assert.equal(resolved.data.challengerBondReturned.toBigInt(), UNIT);

    const record = (await api.query.attestations.claims(claim)).unwrap();
    assert.equal(record.status.toString(), 'Invalid');
    const device_ = (await api.query.devices.devices(key)).unwrap();
    assert.equal(device_.stake.toBigInt(), stakeBefore - stakeBefore / 10n, '10 % of the stake burned');
    assert.equal(device_.reputation.claimsLost.toNumber(), 1);
    assert.equal((await api.query.disputes.claimDisputes(claim)).length, 0);
  });

  it('defends an honest claim against a lying challenger', async () => {
    // The operator is the node's own checker account: the node defends its claims.
    const device = new Keyring({ type: 'ed25519' }).addFromUri('//edgeproof-e2e-honest');
    await registerDevice(api, checker, device, 'e2e honest');
    const claim = await submitClaim(
      api, checker, device, modelId, [mlp.inputTensor], [mlp.outputTensor], 1,
    );

    // Bob lies: a made-up trace whose output leaf is wrong.
    const { root, witness } = madeUpTrace(mlp.inputTensor, tamper(mlp.outputTensor, 2.0));
    const bobBefore = (await api.query.system.account(bob.address)).data.free.toBigInt();
    const { events } = await sendAndWaitInBlock(
      api.tx.disputes.open(claim, root, [witness]),
      bob,
    );
    const open = events.find(({ event }) => api.events.disputes.DisputeOpened.is(event));
    assert.ok(open, 'DisputeOpened');
    const dispute = open.event.data.dispute.toNumber();

    // The node responds and bisects; Bob stops playing and runs out of time.
    const responded = await waitForEvent(
      api, (e) => api.events.disputes.Responded.is(e), 60_000, 'the node to respond',
    );
    assert.equal(responded.data.dispute.toNumber(), dispute);
    const resolved = await waitForEvent(
      api,
      (e) => api.events.disputes.DisputeResolved.is(e) && e.data.dispute.toNumber() === dispute,
      SETTLE_MS,
      'DisputeResolved',
    );
    const ending = resolved.data.ending.asDecided;
    assert.equal(ending.winner.toString(), 'Claimant');
    assert.ok(ending.reason.isTimeout);
    assert.equal(resolved.data.toClaimant.toBigInt(), UNIT / 2n, "half of Bob's bond");
    assert.equal(resolved.data.burned.toBigInt(), UNIT / 2n);
    const bobAfter = (await api.query.system.account(bob.address)).data.free.toBigInt();
    assert.ok(bobAfter < bobBefore - UNIT / 2n, 'Bob lost his bond (and paid fees)');
    const status = (await api.query.attestations.claims(claim)).unwrap().status.toString();
    assert.ok(['Pending', 'Final'].includes(status), `the claim stands (${status})`);
  });

  it("counts both games in the node's metrics: the checker's verdicts and moves, the chain's disputes", async () => {
    // Run after the two games above: the checker found one claim wrong and one right, opened
    // and won the first dispute, and defended the second, which Bob opened and lost.
    const value = (samples, name, labels = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    const expected = [
      ['edgeproof_checker_claims_total', { verdict: 'wrong' }, 1],
      ['edgeproof_checker_claims_total', { verdict: 'agrees' }, 1],
      ['edgeproof_chain_claims_total', { event: 'submitted' }, 2],
      ['edgeproof_chain_claims_total', { event: 'invalid' }, 1],
      ['edgeproof_chain_disputes_opened_total', { checker: checker.address }, 1],
      ['edgeproof_chain_disputes_opened_total', { checker: 'others' }, 1],
      ['edgeproof_chain_disputes_resolved_total', { checker: checker.address, outcome: 'won' }, 1],
      ['edgeproof_chain_disputes_resolved_total', { checker: 'others', outcome: 'lost' }, 1],
      ['edgeproof_chain_dispute_blocks_count', {}, 2],
      ['edgeproof_chain_disputes_open', {}, 0],
    ];
    // The chain metrics follow finality, a block or two behind.
    const samples = await waitFor(async () => {
      const s = await node.metrics();
      return expected.every(([name, labels, n]) => value(s, name, labels) === n) ? s : null;
    }, 30_000, 'the metrics to count both disputes').catch(async (e) => {
      const s = await node.metrics();
      const got = expected.map(([name, labels, n]) => `${name}${JSON.stringify(labels)} = ${value(s, name, labels)} (want ${n})`);
      throw new Error(`${e.message}:\n${got.join('\n')}`);
    });
    // Moves handed to the pool: the opening and the timeout of the first game; the response
    // and at least one bisection of the second.
    for (const move of ['open', 'timeout', 'respond', 'bisect']) {
      assert.ok(value(samples, 'edgeproof_checker_moves_total', { move }) >= 1, `a ${move} move`);
    }
    const free = value(samples, 'edgeproof_checker_free_balance', { checker: checker.address });
    const onChain = (await api.query.system.account(checker.address)).data.free.toBigInt();
    assert.ok(Math.abs(free - Number(onChain) / Number(UNIT)) < 1, `checker balance ${free} EDGE`);
    assert.equal(value(samples, 'edgeproof_challenger_bond'), 1);
    // No dispute runs: no clock is shown.
    assert.equal(samples.filter((s) => s.name === 'edgeproof_checker_dispute_clock_blocks').length, 0);

    // Every Edgeproof metric the node serves, and every one the Grafana dashboard draws, is
    // documented in the operator's guide.
    const docs = readFileSync(new URL('../../docs/running-a-network.md', import.meta.url), 'utf8');
    const family = (name) => name.replace(/_(bucket|sum|count)$/, '');
    const served = new Set(samples.map((s) => family(s.name)).filter((n) => n.startsWith('edgeproof_')));
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const drawn = new Set([...dashboard.matchAll(/edgeproof_[a-z_]+/g)].map(([n]) => family(n)));
    assert.ok(served.size >= 12, `served: ${[...served]}`);
    for (const name of [...served, ...drawn]) {
      assert.ok(docs.includes(`\`${name}\``), `${name} is documented in docs/running-a-network.md`);
    }
  });
});
