#!/usr/bin/env node
// Load test of attested outputs on a dev node (docs/benchmarks.md):
//
//   node scripts/load-claims.mjs [operators=8] [claimsPerOperator=50]
//
// Starts `edgeproof-node --dev` (EDGEPROOF_NODE_BIN, scripts/env.sh), serves and activates the
// fixture MLP, funds `operators` accounts with one device each, then has every operator submit
// `claimsPerOperator` honest claims at once (explicit nonces, no waiting in between). Reports
// how many were submitted, included and lost, the inclusion rate over the blocks that held
// them, the claims per block, what the node's checker logged (claims checked per second through
// the inference host function), and the weight ratio of `submit` to a balance transfer.

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import {
  claimMessage, encodeTensors, mlp, registerDevice, registerMlp, serveMlp, UNIT,
} from '../tests/e2e/lib/claims.mjs';
import { sendAndWaitInBlock, startDevNode, waitFor } from '../tests/e2e/lib/node.mjs';

const OPERATORS = Number(process.argv[2] ?? 8);
const PER_OPERATOR = Number(process.argv[3] ?? 50);

await cryptoWaitReady();
const server = await serveMlp();
const node = await startDevNode();
const { api } = node;
try {
  const sr = new Keyring({ type: 'sr25519' });
  const ed = new Keyring({ type: 'ed25519' });
  const alice = sr.addFromUri('//Alice');
  const bob = sr.addFromUri('//Bob');
  const { modelId, status } = await registerMlp(api, bob, server.uri, { name: 'load-mlp' });
  if (status !== 'Active') throw new Error(`model ${status}`);

  // Fund the operators (one transfer each, explicit nonces, one wait).
  const operators = Array.from({ length: OPERATORS }, (_, i) => sr.addFromUri(`//load-op-${i}`));
  let nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  const funding = operators.map((op) =>
    api.tx.balances.transferKeepAlive(op.address, 10_000n * UNIT).signAndSend(alice, { nonce: nonce++ }),
  );
  await Promise.all(funding);
  await waitFor(async () => {
    const last = await api.query.system.account(operators[OPERATORS - 1].address);
    return last.data.free.toBigInt() > 0n;
  }, 60_000, 'the operators to be funded');
  const devices = operators.map((_, i) => ed.addFromUri(`//load-device-${i}`));
  await Promise.all(operators.map((op, i) => registerDevice(api, op, devices[i], `load ${i}`)));

  // Sign every claim first, then submit them all.
  const input = encodeTensors([mlp.inputTensor]);
  const output = encodeTensors([mlp.outputTensor]);
  const txs = [];
  for (let i = 0; i < OPERATORS; i += 1) {
    let accountNonce = (await api.rpc.system.accountNextIndex(operators[i].address)).toNumber();
    for (let c = 1; c <= PER_OPERATOR; c += 1) {
      const signature = devices[i].sign(
        claimMessage(api.genesisHash, { Ed25519: devices[i].publicKey }, modelId, input, output, c),
      );
      const tx = api.tx.attestations.submit(
        { Ed25519: devices[i].publicKey }, modelId, u8aToHex(input), u8aToHex(output), c,
        { Ed25519: signature },
      );
      txs.push(await tx.signAsync(operators[i], { nonce: accountNonce++ }));
    }
  }
  const firstBlock = (await api.rpc.chain.getHeader()).number.toNumber();
  const started = Date.now();
  const results = await Promise.allSettled(txs.map((tx) => tx.send()));
  const submitted = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results.length - submitted;
  const sentIn = (Date.now() - started) / 1000;

  // Wait until every accepted claim is on chain (or nothing moves for 5 blocks).
  const total = OPERATORS * PER_OPERATOR;
  let included = 0;
  let lastChange = firstBlock;
  let lastBlock = firstBlock;
  const perBlock = [];
  for (;;) {
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    if (head > lastBlock) {
      for (let b = lastBlock + 1; b <= head; b += 1) {
        const hash = await api.rpc.chain.getBlockHash(b);
        const events = await api.query.system.events.at(hash);
        const n = events.filter(({ event }) => api.events.attestations.ClaimSubmitted.is(event)).length;
        if (n > 0) {
          perBlock.push({ block: b, claims: n });
          included += n;
          lastChange = b;
        }
      }
      lastBlock = head;
    }
    if (included >= submitted || head - lastChange >= 5) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const blocks = perBlock.length ? perBlock[perBlock.length - 1].block - perBlock[0].block + 1 : 0;
  const seconds = blocks * 6;

  // The checker's own account of its work.
  const checked = [...node.log().matchAll(/checker: (\d+) claims checked in (\d+) ms/g)].map(
    (m) => [Number(m[1]), Number(m[2])],
  );
  const checkedClaims = checked.reduce((a, [n]) => a + n, 0);
  const checkedMs = checked.reduce((a, [, ms]) => a + ms, 0);

  // Weight ratio: how many claims vs transfers fit the normal class of a block (weights as
  // the runtime reports them for fees, extrinsic base weight included).
  const signature = devices[0].sign(
    claimMessage(api.genesisHash, { Ed25519: devices[0].publicKey }, modelId, input, output, 1),
  );
  const claimInfo = await api.tx.attestations
    .submit({ Ed25519: devices[0].publicKey }, modelId, u8aToHex(input), u8aToHex(output), 1, {
      Ed25519: signature,
    })
    .paymentInfo(operators[0]);
  const transferInfo = await api.tx.balances.transferKeepAlive(bob.address, UNIT).paymentInfo(alice);
  const claimWeight = claimInfo.weight.refTime.toBigInt();
  const transferWeight = transferInfo.weight.refTime.toBigInt();

  const report = {
    operators: OPERATORS,
    claims: total,
    payloadBytes: { input: input.length, output: output.length },
    submitted,
    refusedByPool: refused,
    included,
    lost: submitted - included,
    secondsToSubmit: Number(sentIn.toFixed(2)),
    blocksHoldingClaims: blocks,
    claimsPerBlock: perBlock.map((p) => p.claims),
    includedPerSecond: seconds ? Number((included / seconds).toFixed(1)) : 0,
    checker: {
      claimsChecked: checkedClaims,
      milliseconds: checkedMs,
      claimsPerSecond: checkedMs ? Number(((checkedClaims * 1000) / checkedMs).toFixed(1)) : null,
    },
    weights: {
      submitRefTimePs: Number(claimWeight),
      transferRefTimePs: Number(transferWeight),
      submitPerTransfer: Number((Number(transferWeight) / Number(claimWeight)).toFixed(3)),
    },
  };
  console.log(JSON.stringify(report, null, 2));
  await sendAndWaitInBlock(api.tx.system.remark('done'), alice);
} finally {
  await node.stop();
  await server.stop();
}
