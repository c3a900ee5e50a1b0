// The dispute game's second level on a real model, end to end on `edgeproof-node --dev`:
// PP-OCRv4's text detector pinned to a 320x320 camera frame (1.2 MB of input; its largest
// convolutions are over one dispute step). A liar (tests/e2e/lib/liar.mjs) agrees with the
// canonical trace before one such convolution and invents the rest; the game descends the
// trace to that node, then inside it (its output's chunks, a tile's segment states) to one
// sub-step, which the runtime executes.
//
// - An honest device (`edgeproof-device attest --wait`) defends its claim against the lying
//   challenger and wins by the sub-step; its claim is Final.
// - The validator's checker catches a lying claimant (a claim with a wrong output, defended by
//   the liar through both levels) and wins by the sub-step; the claim is Invalid.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { f32Tensor, registerDevice, submitClaim, waitForEvent, UNIT } from './lib/claims.mjs';
import { cli, npy, pinAndRegister } from './lib/device.mjs';
import { heavyLeaf, liarTrace, playLiar } from './lib/liar.mjs';
import { sendAndWaitInBlock, startDevNode, waitFor } from './lib/node.mjs';

const REAL_MODELS = process.env.EDGEPROOF_MODELS ?? join(homedir(), '.cache/edgeproof/models');
const GAME_MS = 480_000;

describe('the second level on PP-OCRv4 det (320x320) on edgeproof-node --dev', () => {
  let node;
  let api;
  let dir;
  let base;
  let model;
  let frameNpy;
  let leaves;
  let heavy;
  const frame = f32Tensor([1, 3, 320, 320], (i) => ((i * 7919) % 256) / 255);
  // An output no sigmoid gives: out of any tolerance of the canonical one.
  const wrong = (shape) => f32Tensor(shape, () => -1);

  before(async () => {
    await cryptoWaitReady();
    node = await startDevNode();
    api = node.api;
    dir = mkdtempSync(join(tmpdir(), 'edgeproof-second-level-'));
    base = (keystore, seed = '//Dave') => [
      '--url', node.endpoint, '--keystore', join(dir, keystore), '--model-store', join(dir, 'models'),
      '--seed', seed, '--json',
    ];
    const reg = await pinAndRegister(base('owner.json'), {
      file: join(REAL_MODELS, 'ppocr-v4-det.onnx'), out: join(dir, 'ppocr-det-320.onnx'),
      inputs: ['x=1,3,320,320'], name: 'ppocr-det',
    });
    assert.equal(reg.status, 'Active');
    model = reg.model;
    frameNpy = join(dir, 'frame.npy');
    writeFileSync(frameNpy, npy(frame.shape, frame.data));
    const trace = await cli([...base('owner.json'), 'trace', '--model', model, '--input', frameNpy]);
    assert.equal(trace.code, 0, trace.stderr);
    leaves = trace.json.leaves;
    heavy = heavyLeaf(leaves, api.consts.models.disputeLimits.maxNodeWork.toNumber());
    // These games are long (some 20 moves a party) and the honest side recomputes a 1.2 MB
    // frame's trace for each second-level move: the chain's admin gives new games a longer
    // clock than the dev chain's 10 blocks, so a slow CI machine is not what decides them.
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    await sendAndWaitInBlock(api.tx.sudo.sudo(api.tx.disputes.setClock({ budget: 60, minExtension: 15 })), alice);
  });

  after(async () => {
    if (node) await node.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const log = (dispute) => async (move) => {
    const at = (await api.rpc.chain.getHeader()).number.toNumber();
    console.log(`# #${at} dispute ${dispute}: the liar's ${move}`);
  };

  /** Resolves to the resolution of `dispute` and the second level's cut, once it is over. */
  const settled = (dispute) => {
    let cut = null;
    const started = waitForEvent(
      api,
      (e) => api.events.disputes.SubStepsStarted.is(e) && e.data.dispute.toNumber() === dispute,
      GAME_MS,
      'SubStepsStarted',
    ).then((e) => (cut = e.data));
    const resolved = waitForEvent(
      api,
      (e) => api.events.disputes.DisputeResolved.is(e) && e.data.dispute.toNumber() === dispute,
      GAME_MS,
      'DisputeResolved',
    );
    return Promise.all([started, resolved]).then(([, e]) => ({ ending: e.data.ending.asDecided, cut }));
  };

  it('an honest device defends its claim through both levels against a lying challenger', async () => {
    const keygen = await cli([...base('honest.json'), 'keygen', '--scheme', 'ed25519']);
    assert.equal(keygen.code, 0, keygen.stderr);
    assert.equal((await cli([...base('honest.json'), 'register'])).code, 0);
    const submitted = waitForEvent(
      api,
      (e) => api.events.attestations.ClaimSubmitted.is(e) && e.data.model.toHex() === model,
      120_000,
      'ClaimSubmitted',
    );
    const attest = cli([...base('honest.json'), 'attest', '--model', model, '--input', frameNpy, '--wait'], {
      timeoutMs: GAME_MS + 120_000,
      onProgress: (line) => process.stdout.write(line.replace(/^/gm, '# device: ')),
    });
    const claim = (await submitted).data.claim.toNumber();

    const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    const liar = liarTrace(leaves, heavy, wrong(leaves[leaves.length - 1].shape), 3);
    const { events } = await sendAndWaitInBlock(api.tx.disputes.open(claim, liar.root, [liar.witness]), bob);
    const dispute = events
      .find(({ event }) => api.events.disputes.DisputeOpened.is(event))
      .event.data.dispute.toNumber();
    const outcome = settled(dispute);
    await playLiar(api, bob, dispute, liar, 'challenger', log(dispute));
    const { ending, cut } = await outcome;
    assert.equal(ending.winner.toString(), 'Claimant');
    assert.ok(ending.reason.isSubStep, `won by the sub-step, not ${ending.reason}`);
    assert.equal(cut.leaf.toNumber(), heavy, 'the second level ran inside the node the liar changed');
    assert.ok(cut.tiles.toNumber() > 1, `${cut.tiles} tiles`);

    const r = await attest;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.status, 'Final');
    assert.match(r.stderr, /cut sent/);
    assert.match(r.stderr, /sub-step sent/);
  });

  it("the validator's checker catches a lying claimant through both levels", async () => {
    const eve = new Keyring({ type: 'sr25519' }).addFromUri('//Eve');
    const device = new Keyring({ type: 'ed25519' }).addFromUri('//second-level-liar');
    const key = await registerDevice(api, eve, device, 'second-level liar');
    const lie = wrong(leaves[leaves.length - 1].shape);
    const claim = await submitClaim(api, eve, device, model, [frame], [lie], 1);
    const liar = liarTrace(leaves, heavy, lie, 5);

    const { dispute } = await waitFor(async () => {
      const ids = await api.query.disputes.claimDisputes(claim);
      return ids.length ? { dispute: ids[0].toNumber() } : null;
    }, 120_000, "the validator's dispute");
    const outcome = settled(dispute);
    await sendAndWaitInBlock(api.tx.disputes.respond(dispute, liar.root, [liar.witness]), eve);
    await playLiar(api, eve, dispute, liar, 'claimant', log(dispute));
    const { ending, cut } = await outcome;
    assert.equal(ending.winner.toString(), 'Challenger');
    assert.ok(ending.reason.isSubStep, `won by the sub-step, not ${ending.reason}`);
    assert.equal(cut.leaf.toNumber(), heavy);
    const record = (await api.query.attestations.claims(claim)).unwrap();
    assert.equal(record.status.toString(), 'Invalid');
    const stake = (await api.query.devices.devices(key)).unwrap().stake.toBigInt();
    assert.equal(stake, 150n * UNIT - 15n * UNIT, 'a tenth of the stake burned');
  });
});
