// The model registry and device identity through @polkadot/api: a model registered and
// activated with sudo, a device registered with a bind proof signed in JS, both read back.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';

import { sendAndWaitInBlock, startDevNode } from './lib/node.mjs';
import { bindMessage, bindNonce, modelIdOf } from './lib/claims.mjs';

const FIXTURE = new URL('../../canon/tests/data/mlp.onnx', import.meta.url);
const UNIT = 1_000_000_000_000n;

describe('models and devices on edgeproof-node --dev', () => {
  let node;
  let api;
  let alice;
  let bob;

  before(async () => {
    await cryptoWaitReady();
    node = await startDevNode();
    api = node.api;
    const keyring = new Keyring({ type: 'sr25519' });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
  });

  after(async () => {
    if (node) await node.stop();
  });

  it('registers a model, activates it with sudo and reads it back', async () => {
    const bytes = readFileSync(FIXTURE);
    const params = {
      fileHash: blake2AsHex(bytes, 256),
      name: 'edgeproof-mlp',
      version: 1,
      // Nothing listens on port 9: the validator's off-chain worker cannot fetch the file and
      // does not vote, so the sudo activation below is what decides.
      uri: 'http://127.0.0.1:9/mlp.onnx',
      byteSize: bytes.length,
      inputs: [{ name: 'input', dtype: 'F32', shape: [1, 16], dynamicBatch: true }],
      outputs: [{ name: 'output', dtype: 'F32', shape: [1, 8], dynamicBatch: true }],
      tolerance: { Relative: { abs: 0x3727c5ac, rel: 0x38d1b717 } },
      programRoot: `0x${'ab'.repeat(32)}`,
      nodeCount: 5,
      programWork: 1200,
    };
    const { events } = await sendAndWaitInBlock(api.tx.models.registerModel(params), bob);
    const registered = events.find(({ event }) => api.events.models.ModelRegistered.is(event));
    assert.ok(registered, 'ModelRegistered');
    const modelId = modelIdOf(api, bob.address, params);
    assert.equal(registered.event.data.model.toHex(), modelId, 'the id of Bob\'s registration');
    assert.equal(registered.event.data.fileHash.toHex(), params.fileHash);
    const deposit = registered.event.data.deposit.toBigInt();
    assert.ok(deposit >= UNIT, `deposit ${deposit} covers the base`);
    const holds = await api.query.balances.holds(bob.address);
    assert.ok(holds.some((h) => h.id.isModels && h.amount.toBigInt() === deposit), 'deposit held');

    let record = (await api.query.models.models(modelId)).unwrap();
    assert.equal(record.status.toString(), 'Pending');
    assert.equal(record.owner.toString(), bob.address);

    await sendAndWaitInBlock(api.tx.sudo.sudo(api.tx.models.activate(modelId)), alice);
    record = (await api.query.models.models(modelId)).unwrap();
    assert.equal(record.status.toString(), 'Active');
    assert.equal(record.params.name.toUtf8(), 'edgeproof-mlp');
    assert.equal(record.params.inputs[0].shape.map((d) => d.toNumber()).join('x'), '1x16');

    const family = await api.query.models.families('edgeproof-mlp');
    assert.deepEqual(family.map(([v, id]) => [v.toNumber(), id.toHex()]), [[1, modelId]]);
  });

  it('registers a device with a bind proof signed by the device key', async () => {
    const device = new Keyring({ type: 'ed25519' }).addFromUri('//edgeproof-e2e-phone');
    const genesis = api.genesisHash;
    const key = { Ed25519: device.publicKey };
    // "edgeproof/bind" ++ genesis hash ++ operator account id ++ the key's registration nonce
    // (0: it never registered; see docs/pallets/devices.md).
    assert.equal(await bindNonce(api, key), 0);
    const message = bindMessage(genesis, bob.publicKey, 0);
    const proof = { Ed25519: device.sign(message) };
    const stake = 150n * UNIT;
    const metadata = { hardware: 'Phone', description: 'e2e test phone' };

    const { events } = await sendAndWaitInBlock(
      api.tx.devices.registerDevice(key, proof, metadata, stake),
      bob,
    );
    assert.ok(events.some(({ event }) => api.events.devices.DeviceRegistered.is(event)));

    const record = (await api.query.devices.devices(key)).unwrap();
    assert.equal(record.operator.toString(), bob.address);
    assert.equal(record.stake.toBigInt(), stake);
    assert.equal(record.status.toString(), 'Active');
    assert.equal(u8aToHex(record.key.asEd25519), u8aToHex(device.publicKey));
    assert.equal(record.registration.toNumber(), 0);
    assert.equal(await bindNonce(api, key), 1, 'the proof served its one registration');
    const mine = await api.query.devices.operatorDevices(bob.address);
    assert.equal(mine.length, 1);

    // The same key signed for Alice cannot be registered by Bob again, nor by anyone.
    const forged = { Ed25519: device.sign(bindMessage(genesis, alice.publicKey, 1)) };
    await assert.rejects(
      sendAndWaitInBlock(api.tx.devices.registerDevice(key, forged, metadata, stake), alice),
      /devices\.KeyInUse|KeyInUse/,
    );
  });
});
