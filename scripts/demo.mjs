// The main job, run by scripts/demo.sh: a development chain, a model, a device, an honest claim
// that finalises and a tampered claim that the validator catches — with the dispute's rounds
// and the slash as they happen on the chain.
//
// Everything the device does goes through the `edgeproof-device` CLI. The one thing the CLI
// will not do is defend a wrong claim, so the lying device's side of the game (a made-up trace,
// answered round by round) is played here through @polkadot/api.
//
//   node scripts/demo.mjs [--keep]     (--keep also serves the explorer and leaves both running)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cryptoWaitReady } from '@polkadot/util-crypto';
import { Keyring } from '@polkadot/keyring';

import { answerBisections, madeUpTrace, mlp, UNIT } from '../tests/e2e/lib/claims.mjs';
import { cli, npy } from '../tests/e2e/lib/device.mjs';
import { sendAndWaitInBlock, startDevNode, waitFor } from '../tests/e2e/lib/node.mjs';
import { serveExplorer } from '../explorer/serve.mjs';

const MLP_ONNX = new URL('../canon/tests/data/mlp.onnx', import.meta.url).pathname;
const EXPLORER = fileURLToPath(new URL('../explorer/', import.meta.url));
const edge = (planck) => `${Number(BigInt(planck) * 1000n / UNIT) / 1000} EDGE`;
const step = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);
const say = (text) => console.log(`   ${text}`);
const keep = process.argv.includes('--keep');

async function device(args) {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`edgeproof-device ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.json;
}

/** Prints the Disputes, Attestations and Devices events of every new best block. */
function narrate(api) {
  const short = (a) => `${String(a).slice(0, 8)}…`;
  const tell = async (header) => {
    const at = await api.at(header.hash);
    for (const { event } of await at.query.system.events()) {
      const d = event.data;
      const n = `#${header.number}`;
      if (api.events.disputes.DisputeOpened.is(event)) {
        say(`${n} dispute ${d.dispute} opened on claim ${d.claim} by checker ${short(d.challenger)}, bond ${edge(d.bond)}`);
      } else if (api.events.disputes.Responded.is(event)) {
        say(`${n} dispute ${d.dispute}: the device responded with its trace root ${short(d.claimantRoot)}`);
      } else if (api.events.disputes.Bisected.is(event)) {
        say(`${n} dispute ${d.dispute}: round ${d.round}, ${d.party} revealed its two children`);
      } else if (api.events.disputes.OneStepAwaited.is(event)) {
        say(`${n} dispute ${d.dispute}: the traces first differ at leaf ${d.leaf}; one operator to execute on-chain`);
      } else if (api.events.disputes.DisputeResolved.is(event)) {
        const { winner, reason } = d.ending.asDecided;
        say(`${n} dispute ${d.dispute}: ${winner} wins by ${reason.type}; challenger bond returned ${edge(d.challengerBondReturned)}`);
      } else if (api.events.attestations.ClaimFinalized.is(event)) {
        say(`${n} claim ${d.claim} is Final: its bond is returned`);
      } else if (api.events.attestations.ClaimInvalidated.is(event)) {
        say(`${n} claim ${d.claim} is Invalid: bond ${edge(d.rewarded)} to the challenger, ${edge(d.burned)} burned, stake slashed ${edge(d.stakeSlashed)}`);
      }
    }
  };
  // A block's events may still be on their way when the node stops: the narration of that
  // block is dropped instead of failing the demo with an unhandled rejection.
  return api.rpc.chain.subscribeNewHeads((header) =>
    tell(header).catch((e) => {
      if (api.isConnected) console.error(`   (events of #${header.number} not read: ${e.message})`);
    }),
  );
}

/**
 * The story on a running dev node (`startDevNode()`), steps 2–5: a model voted Active, a device,
 * an honest claim that finalises, a tampered claim defended with a made-up trace until the
 * dispute settles. Resolves to the ids involved; the explorer's browser test replays it.
 */
export async function playDemo(node, dir) {
  const { api } = node;
  const base = (seed, keystore = 'device.json') => [
    '--url', node.endpoint, '--seed', seed, '--keystore', join(dir, keystore),
    '--model-store', join(dir, 'models'), '--json',
  ];

  step('2. a model: the fixture MLP (16 inputs → 8 probabilities, 4 ONNX operators)');
  const model = await device([
    ...base('//Bob'), 'models', 'register', '--file', MLP_ONNX, '--uri', `file://${MLP_ONNX}`,
    '--name', 'demo-mlp', '--wait',
  ]);
  say(`//Bob registered model ${model.model} (canonical program root ${model.programRoot.slice(0, 10)}…)`);
  say(`the validator fetched it, compiled and probed it, and voted: ${model.status}`);
  if (model.status !== 'Active') throw new Error('the model was not activated');

  step('3. a device');
  const key = await device([...base('//Dave'), 'keygen']);
  const registered = await device([...base('//Dave'), 'register', '--hardware', 'phone', '--description', 'demo phone']);
  say(`device key ${key.device} (keystore file mode 0600)`);
  say(`registered to //Dave with a stake of ${edge(registered.stake)}`);

  const input = join(dir, 'x.npy');
  writeFileSync(input, npy([1, 16], mlp.inputTensor.data));

  step('4. an honest claim');
  const honest = await device([...base('//Dave'), 'attest', '--model', model.model, '--input', input, '--wait']);
  say(`claim ${honest.claim}: output ${honest.outputs[0].data.slice(0, 3).map((x) => x.toFixed(4)).join(', ')}, … → ${honest.status}`);

  step('5. a tampered claim (its first output moved by 0.5)');
  const lie = await device([...base('//Dave'), 'attest', '--model', model.model, '--input', input, '--tamper-output']);
  say(`claim ${lie.claim} submitted; the device will defend it with a made-up trace`);
  const lied = { dtype: 0, shape: [1, 8], data: Buffer.from(new Float32Array(lie.outputs[0].data).buffer) };
  const trace = madeUpTrace(mlp.inputTensor, lied);
  const dave = new Keyring({ type: 'sr25519' }).addFromUri('//Dave');
  const { dispute } = await waitFor(async () => {
    const ids = await api.query.disputes.claimDisputes(lie.claim);
    return ids.length ? { dispute: ids[0].toNumber() } : null;
  }, 120_000, "the checker's dispute");
  await sendAndWaitInBlock(api.tx.disputes.respond(dispute, trace.root, [trace.witness]), dave);
  await answerBisections(api, dave, dispute, trace, 'claimant');
  const status = await waitFor(async () => {
    const record = await api.query.attestations.claims(lie.claim);
    const s = record.isSome ? record.unwrap().status.type : 'Pruned';
    return s === 'Invalid' || s === 'Final' ? s : null;
  }, 180_000, 'the dispute to settle');
  const after = await device([...base('//Dave'), 'status']);
  say(`claim ${lie.claim} is ${status}; device stake ${edge(registered.stake)} → ${edge(after.stake)}, reputation ${after.reputation.score / 10_000} % (1 claim final, 1 lost)`);
  if (status !== 'Invalid') throw new Error('the tampered claim was not caught');
  return { model: model.model, device: key.device, honest: honest.claim, lie: lie.claim, dispute };
}

async function main() {
  await cryptoWaitReady();
  const dir = mkdtempSync(join(tmpdir(), 'edgeproof-demo-'));
  step('1. a development chain');
  const node = await startDevNode();
  let unsubscribe = () => {};
  let explorer;
  try {
    say(`edgeproof-node --dev is up at ${node.endpoint} (one validator: Alice; its off-chain`);
    say('worker runs ONNX Runtime to vote on models and to check claims)');
    unsubscribe = await narrate(node.api);
    if (keep) {
      explorer = await buildAndServeExplorer();
      say(`the explorer follows along at ${explorer.url}?rpc=${node.endpoint}`);
    }
    await playDemo(node, dir);

    step('done');
    if (keep) {
      say(`the node keeps running at ${node.endpoint}: the explorer is at`);
      say(`${explorer.url}?rpc=${node.endpoint}; or connect polkadot-js apps`);
      say(`(https://polkadot.js.org/apps/?rpc=${encodeURIComponent(node.endpoint)}); Ctrl-C stops it`);
      unsubscribe();
      await new Promise((resolve) => process.once('SIGINT', resolve));
    }
  } finally {
    unsubscribe();
    await explorer?.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds explorer/ with Vite and serves it on a free port. */
export async function buildAndServeExplorer() {
  const { build } = await import('vite');
  await build({ root: EXPLORER, configFile: join(EXPLORER, 'vite.config.ts'), logLevel: 'warn' });
  return serveExplorer(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(`demo failed: ${e.message}`);
      process.exit(1);
    },
  );
}
