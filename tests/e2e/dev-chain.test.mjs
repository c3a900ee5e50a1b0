// A real `edgeproof-node --dev` driven through @polkadot/api, as polkadot-js apps would.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { sendAndWaitInBlock, startDevNode, waitFor } from './lib/node.mjs';

const PALLETS = [
  'System', 'Timestamp', 'Sudo', 'Aura', 'Grandpa', 'Balances', 'TransactionPayment', 'Models', 'Devices',
];

describe('edgeproof-node --dev', () => {
  let node;
  let api;

  before(async () => {
    await cryptoWaitReady();
    node = await startDevNode();
    api = node.api;
  });

  after(async () => {
    if (node) await node.stop();
  });

  it('exposes every pallet in the metadata', () => {
    const names = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
    for (const pallet of PALLETS) assert.ok(names.includes(pallet), `metadata lacks ${pallet}: ${names}`);
    assert.equal(api.runtimeVersion.specName.toString(), 'edgeproof');
  });

  it('reports the chain properties polkadot-js shows', async () => {
    const props = await api.rpc.system.properties();
    assert.equal(props.tokenSymbol.unwrap()[0].toString(), 'EDGE');
    assert.equal(props.tokenDecimals.unwrap()[0].toNumber(), 12);
    assert.equal((await api.rpc.system.chain()).toString(), 'Edgeproof Development');
  });

  it('produces and finalises blocks', async () => {
    const finalized = await waitFor(async () => {
      const head = await api.rpc.chain.getFinalizedHead();
      const number = (await api.rpc.chain.getHeader(head)).number.toNumber();
      return number >= 3 ? number : 0;
    }, 90_000, 'block #3 to be finalised');
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    assert.ok(best >= finalized, `best ${best} < finalised ${finalized}`);
    console.log(`# blocks: best #${best}, finalised #${finalized}`);
  });

  it('includes a transfer signed by //Alice and emits Transfer', async () => {
    const keyring = new Keyring({ type: 'sr25519' });
    const alice = keyring.addFromUri('//Alice');
    const bob = keyring.addFromUri('//Bob');
    const amount = 1_234_567_890_000n;
    const before = (await api.query.system.account(bob.address)).data.free.toBigInt();

    const { blockHash, events } = await sendAndWaitInBlock(
      api.tx.balances.transferKeepAlive(bob.address, amount),
      alice,
    );

    const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
    assert.ok(transfer, 'no Balances.Transfer event');
    const [from, to, value] = transfer.event.data;
    assert.equal(from.toString(), alice.address);
    assert.equal(to.toString(), bob.address);
    assert.equal(value.toBigInt(), amount);
    assert.ok(events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));

    const afterBalance = (await api.query.system.account.at(blockHash, bob.address)).data.free.toBigInt();
    assert.equal(afterBalance - before, amount);
  });
});
