// edgeproof-device against a real `edgeproof-node --dev`: a model registered and activated, a
// device registered, an honest claim attested that finalises, a tampered claim the validator
// catches and slashes, `serve` defending an honest claim against a lying challenger, real models
// (from their PyPI wheels, unpacked by scripts/setup.sh) pinned and registered or refused,
// claims on them (a 1.2 MB camera frame that finalises, a tampered one the validator catches),
// and one clear line and a non-zero exit for each bad input.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';

import {
  answerBisections, encodeTensors, f32Tensor, madeUpTrace, mlp, modelIdOf, serveMlp, tamper,
  waitForEvent, UNIT,
} from './lib/claims.mjs';
import { cli, deviceBinary, jsonTensor, npy, pinAndRegister } from './lib/device.mjs';
import { sendAndWaitInBlock, startDevNode, waitFor } from './lib/node.mjs';

const MLP_ONNX = new URL('../../canon/tests/data/mlp.onnx', import.meta.url).pathname;
const REAL_MODELS = process.env.EDGEPROOF_MODELS ?? join(homedir(), '.cache/edgeproof/models');
const SETTLE_MS = 150_000;

describe('edgeproof-device against edgeproof-node --dev', () => {
  let node;
  let api;
  let server;
  let dir;
  let base;
  let modelId;
  let inputNpy;
  const real = {};
  const operator = '//Dave';

  before(async () => {
    await cryptoWaitReady();
    server = await serveMlp();
    node = await startDevNode();
    api = node.api;
    dir = mkdtempSync(join(tmpdir(), 'edgeproof-device-'));
    inputNpy = join(dir, 'x.npy');
    writeFileSync(inputNpy, npy([1, 16], mlp.inputTensor.data));
    base = (keystore, seed = operator) => [
      '--url', node.endpoint,
      '--keystore', join(dir, keystore),
      '--model-store', join(dir, 'models'),
      '--seed', seed,
      '--json',
    ];
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers a model as its owner; the validator activates it', async () => {
    const r = await cli([
      ...base('owner.json'), 'models', 'register', '--file', MLP_ONNX, '--name', 'cli-mlp',
      '--uri', server.uri, '--wait',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.fileHash, mlp.registration.fileHash, 'the blake2-256 of the file');
    const owner = new Keyring({ type: 'sr25519' }).addFromUri(operator).address;
    const params = { ...mlp.registration, name: 'cli-mlp', version: 1, uri: server.uri };
    assert.equal(r.json.model, modelIdOf(api, owner, params), 'the id of the owner\'s registration');
    assert.equal(r.json.programRoot, mlp.registration.programRoot);
    assert.equal(r.json.status, 'Active');
    modelId = r.json.model;

    const list = await cli([...base('owner.json'), 'models', 'list']);
    assert.ok(list.json.models.some((m) => m.model === modelId && m.name === 'cli-mlp'));
    const show = await cli([...base('owner.json'), 'models', 'show', modelId]);
    assert.deepEqual(show.json.inputs, [{ name: 'x', dtype: 'F32', shape: [1, 16], dynamicBatch: false }]);
  });

  it('pins real models: Silero VAD, PP-OCR cls and PP-OCRv4 det (cut by the second level) activate', async () => {
    const vad = join(REAL_MODELS, 'silero-vad-v6-ifless.onnx');
    const unpinned = await cli([
      ...base('owner.json'), 'models', 'register', '--file', vad, '--name', 'vad', '--uri', `file://${vad}`,
    ]);
    assert.notEqual(unpinned.code, 0);
    assert.match(unpinned.stderr, /symbolic input dimensions \(input \[\?, \?\]; state \[2, \?, 128\]\).*models pin/);

    const pinned = join(dir, 'silero-vad-512.onnx');
    const pin = await cli([
      ...base('owner.json'), 'models', 'pin', '--file', vad, '--out', pinned,
      '--input', 'input=1,512', 'state=2,1,128',
    ]);
    assert.equal(pin.code, 0, pin.stderr);
    const reg = await cli([
      ...base('owner.json'), 'models', 'register', '--file', pinned, '--name', 'silero-vad',
      '--uri', `file://${pinned}`, '--wait',
    ]);
    assert.equal(reg.code, 0, reg.stderr);
    assert.equal(reg.json.fileHash, pin.json.fileHash);
    assert.equal(reg.json.status, 'Active');
    const show = await cli([...base('owner.json'), 'models', 'show', reg.json.model]);
    assert.deepEqual(show.json.inputs.map((i) => [i.name, i.dtype, i.shape]), [
      ['input', 'F32', [1, 512]], ['sr', 'I64', []], ['state', 'F32', [2, 1, 128]],
    ]);

    // PP-OCR's text-direction classifier: its heaviest node (a Conv) is 1.2e6 work units.
    const cls = await pinAndRegister(base('owner.json'), {
      file: join(REAL_MODELS, 'ppocr-mobile-v2-cls.onnx'), out: join(dir, 'ppocr-cls-48x192.onnx'),
      inputs: ['x=1,3,48,192'], name: 'ppocr-cls',
    });
    assert.equal(cls.status, 'Active');
    real.cls = cls.model;

    // PP-OCRv4's detector: its largest convolutions (1.3e8 work units) are over one dispute
    // step; validators accept it because the second level cuts them into sub-steps.
    const det = await pinAndRegister(base('owner.json'), {
      file: join(REAL_MODELS, 'ppocr-v4-det.onnx'), out: join(dir, 'ppocr-det-320.onnx'),
      inputs: ['x=1,3,320,320'], name: 'ppocr-det',
    });
    assert.equal(det.status, 'Active');
    real.det = det.model;
  });

  it('real models: a 1.2 MB camera frame on PP-OCRv4 det is Final; a tampered PP-OCR cls claim is caught and Invalid', async () => {
    await cli([...base('camera.json'), 'keygen']);
    const reg = await cli([...base('camera.json'), 'register', '--hardware', 'phone', '--description', 'camera']);
    assert.equal(reg.code, 0, reg.stderr);
    const stake = BigInt(reg.json.stake);
    const pattern = (i) => ((i * 7919) % 256) / 255;

    // A 320x320 RGB frame in f32: 1 228 800 bytes of input, 409 600 of output.
    const frame = f32Tensor([1, 3, 320, 320], pattern);
    const frameNpy = join(dir, 'frame.npy');
    writeFileSync(frameNpy, npy(frame.shape, frame.data));
    const det = await cli([...base('camera.json'), 'attest', '--model', real.det, '--input', frameNpy, '--wait']);
    assert.equal(det.code, 0, det.stderr);
    assert.equal(det.json.status, 'Final');
    const detClaim = (await api.query.attestations.claims(det.json.claim)).unwrap();
    assert.equal(detClaim.inputHash.toHex(), u8aToHex(blake2AsU8a(encodeTensors([frame]), 256)));
    assert.equal(detClaim.status.toString(), 'Final');
    assert.ok((await api.query.attestations.payloads(det.json.claim)).isNone, 'the payloads left state');

    // A text line for the direction classifier, its output tampered: the validator's checker
    // disputes it and wins; the device loses a tenth of its stake.
    const line = f32Tensor([1, 3, 48, 192], pattern);
    const lineNpy = join(dir, 'line.npy');
    writeFileSync(lineNpy, npy(line.shape, line.data));
    const lie = await cli([
      ...base('camera.json'), 'attest', '--model', real.cls, '--input', lineNpy, '--wait', '--tamper-output',
    ]);
    assert.equal(lie.code, 0, lie.stderr);
    assert.equal(lie.json.status, 'Invalid');
    const status = await cli([...base('camera.json'), 'status']);
    assert.equal(status.json.reputation.claimsFinalized, 1);
    assert.equal(status.json.reputation.claimsLost, 1);
    assert.equal(BigInt(status.json.stake), stake - stake / 10n, '10 % of the stake burned');
  });

  it('register → attest → Final', async () => {
    const keygen = await cli([...base('honest.json'), 'keygen', '--scheme', 'ed25519']);
    assert.equal(keygen.code, 0, keygen.stderr);
    const reg = await cli([...base('honest.json'), 'register', '--hardware', 'phone', '--description', 'e2e']);
    assert.equal(reg.code, 0, reg.stderr);
    assert.equal(reg.json.device, keygen.json.device);

    const attest = await cli([...base('honest.json'), 'attest', '--model', modelId, '--input', inputNpy, '--wait']);
    assert.equal(attest.code, 0, attest.stderr);
    assert.equal(attest.json.status, 'Final');
    assert.equal(attest.json.nonce, 1);
    const onChain = (await api.query.attestations.claims(attest.json.claim)).unwrap();
    assert.equal(onChain.status.toString(), 'Final');

    const status = await cli([...base('honest.json'), 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.json.status, 'Active');
    assert.equal(status.json.reputation.claimsFinalized, 1);
    assert.deepEqual(status.json.openClaims, []);
  });

  it('a tampered attest is disputed by the validator and the device slashed', async () => {
    await cli([...base('liar.json'), 'keygen']);
    const reg = await cli([...base('liar.json'), 'register']);
    assert.equal(reg.code, 0, reg.stderr);
    const stake = BigInt(reg.json.stake);
    const attest = await cli([
      ...base('liar.json'), 'attest', '--model', modelId, '--input', inputNpy, '--wait', '--tamper-output',
    ]);
    assert.equal(attest.code, 0, attest.stderr);
    assert.equal(attest.json.status, 'Invalid');
    const status = await cli([...base('liar.json'), 'status']);
    assert.equal(status.json.reputation.claimsLost, 1);
    assert.equal(BigInt(status.json.stake), stake - stake / 10n, '10 % of the stake burned');
  });

  it('serve attests requests, defends an honest claim against a lying challenger, survives a node restart', async () => {
    await cli([...base('served.json'), 'keygen']);
    assert.equal((await cli([...base('served.json'), 'register'])).code, 0);
    const daemon = spawn(
      deviceBinary(),
      [...base('served.json'), 'serve', '--model', modelId, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let log = '';
    daemon.stdout.on('data', (d) => (out += d));
    daemon.stderr.on('data', (d) => (log += d));
    try {
      const { listening } = await waitFor(() => {
        const line = out.split('\n').find((l) => l.includes('listening'));
        return line ? JSON.parse(line) : null;
      }, 60_000, `serve to listen:\n${log}`);
      const health = await (await fetch(`${listening}/health`)).json();
      assert.equal(health.model, modelId);

      const bad = await fetch(`${listening}/attest`, { method: 'POST', body: '{"dtype":"F32","shape":[1,2],"data":[1,2]}' });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /input 0 \(x\)/);

      const response = await fetch(`${listening}/attest`, {
        method: 'POST',
        body: JSON.stringify(jsonTensor(mlp.inputTensor)),
      });
      assert.equal(response.status, 200);
      const { claim } = await response.json();

      // Bob lies about the honest claim with a made-up trace and plays it out.
      const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
      const trace = madeUpTrace(mlp.inputTensor, tamper(mlp.outputTensor, 2.0));
      const { events } = await sendAndWaitInBlock(api.tx.disputes.open(claim, trace.root, [trace.witness]), bob);
      const dispute = events
        .find(({ event }) => api.events.disputes.DisputeOpened.is(event))
        .event.data.dispute.toNumber();
      const resolved = waitForEvent(
        api,
        (e) => api.events.disputes.DisputeResolved.is(e) && e.data.dispute.toNumber() === dispute,
        SETTLE_MS,
        'DisputeResolved',
      );
      await answerBisections(api, bob, dispute, trace, 'challenger');
      const ending = (await resolved).data.ending.asDecided;
      assert.equal(ending.winner.toString(), 'Claimant', log);
      assert.ok(ending.reason.isOneStep, `won by the one-step, not ${ending.reason}`);
      // The daemon logs a move once it is in a block, just after the test sees it.
      await waitFor(() => /one-step sent/.test(log), 30_000, `the one-step in the log:\n${log}`);
      assert.match(log, /respond sent/);
      assert.match(log, /bisect sent/);
      const status = (await api.query.attestations.claims(claim)).unwrap().status.toString();
      assert.ok(['Pending', 'Final'].includes(status), `the claim stands (${status})`);

      // The node restarts (same database and ports): the daemon reconnects and goes on.
      await node.restart();
      await waitFor(() => /reconnected/.test(log), 60_000, `serve to reconnect:\n${log}`);
      const again = await fetch(`${listening}/attest`, {
        method: 'POST',
        body: JSON.stringify(jsonTensor(mlp.inputTensor)),
      });
      const answer = await again.json();
      assert.equal(again.status, 200, JSON.stringify(answer));
      assert.ok(answer.claim > claim);
      await waitFor(() => api.isConnected, 30_000, 'the test API to reconnect');
      await api.rpc.chain.getHeader();
    } finally {
      daemon.kill('SIGINT');
    }
  });

  it('rotates the key (claims signed by the new key), deregisters, refuses an early withdraw', async () => {
    const keygen = await cli([...base('lifecycle.json'), 'keygen']);
    assert.equal((await cli([...base('lifecycle.json'), 'register'])).code, 0);
    const rotated = await cli([...base('lifecycle.json'), 'rotate-key', '--scheme', 'ed25519']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.json.device, keygen.json.device, 'the device keeps its id');
    assert.equal(rotated.json.previousKey, keygen.json.device);
    assert.match(rotated.json.key, /^ed25519:0x/);

    const attest = await cli([...base('lifecycle.json'), 'attest', '--model', modelId, '--input', inputNpy]);
    assert.equal(attest.code, 0, attest.stderr);
    const record = (await api.query.attestations.claims(attest.json.claim)).unwrap();
    assert.equal(record.device.toJSON().sr25519, keygen.json.device.split(':')[1], 'claimed as the device');

    const status = await cli([...base('lifecycle.json'), 'status']);
    assert.equal(status.json.key, rotated.json.key);
    assert.deepEqual(status.json.openClaims.map((c) => c.claim), [attest.json.claim]);

    assert.equal((await cli([...base('lifecycle.json'), 'deregister'])).code, 0);
    assert.equal((await cli([...base('lifecycle.json'), 'status'])).json.status, 'Unbonding');
    const withdraw = await cli([...base('lifecycle.json'), 'withdraw']);
    assert.equal(withdraw.code, 4);
    assert.match(withdraw.stderr.trim(), /^error: withdraw failed: .*Devices::StillUnbonding$/);
  });

  it('refuses bad input with one clear line and a non-zero exit', async () => {
    const fails = async (args, pattern, env) => {
      const r = await cli(args, { env, timeoutMs: 60_000 });
      assert.notEqual(r.code, 0, `${args.join(' ')} succeeded`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
      assert.match(lines[0], pattern);
    };
    await cli([...base('fresh.json'), 'keygen']);
    const unreachable = ['--url', 'ws://127.0.0.1:1', ...base('fresh.json').slice(2)];
    await fails([...unreachable, 'status'], /cannot connect to a node at ws:\/\/127\.0\.0\.1:1/);
    await fails([...base('fresh.json', 'not a seed'), 'register'], /operator seed/);
    await fails([...base('missing.json'), 'status'], /keystore file .*missing\.json not found/);
    await fails([...base('fresh.json'), 'attest', '--model', modelId, '--input', inputNpy], /device .* is not registered/);
    await fails(
      [...base('honest.json'), 'attest', '--model', `0x${'00'.repeat(32)}`, '--input', inputNpy],
      /model 0x0+ is not registered/,
    );
    // A model the validator cannot fetch stays Pending: it takes no claims.
    const cnn = new URL('../../canon/tests/data/cnn.onnx', import.meta.url).pathname;
    const pending = await cli([
      ...base('owner.json'), 'models', 'register', '--file', cnn, '--name', 'unfetchable',
      '--uri', 'http://127.0.0.1:1/cnn.onnx',
    ]);
    assert.equal(pending.code, 0, pending.stderr);
    await fails(
      [...base('honest.json'), 'attest', '--model', pending.json.model, '--input', inputNpy],
      /is Pending, not Active/,
    );
    const wrongShape = join(dir, 'wrong.npy');
    writeFileSync(wrongShape, npy([1, 15], mlp.inputTensor.data.subarray(0, 60)));
    await fails([...base('honest.json'), 'attest', '--model', modelId, '--input', wrongShape], /input 0 \(x\)/);
    await fails([...base('honest.json'), 'keygen'], /exists; pass --force/);
    chmodSync(join(dir, 'fresh.json'), 0o644);
    await fails([...base('fresh.json'), 'status'], /readable by other users/);
  });
});
