// Measures `edgeproof-device serve`: N inference requests, C at a time, against a fresh dev
// chain (the fixture MLP, one device). Prints the requests answered per second, the latency of
// a request (inference, signing, submission and inclusion in a block) and the blocks the
// claims landed in.
//
//   . scripts/env.sh && node scripts/serve-load.mjs [N=60] [C=20]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { mlp } from '../tests/e2e/lib/claims.mjs';
import { cli, deviceBinary, jsonTensor } from '../tests/e2e/lib/device.mjs';
import { startDevNode, waitFor } from '../tests/e2e/lib/node.mjs';

const total = Number(process.argv[2] ?? 60);
const concurrency = Number(process.argv[3] ?? 20);
const MLP_ONNX = new URL('../canon/tests/data/mlp.onnx', import.meta.url).pathname;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'edgeproof-serve-load-'));
  const node = await startDevNode();
  let daemon;
  try {
    const base = ['--url', node.endpoint, '--seed', '//Dave', '--keystore', join(dir, 'k.json'),
      '--model-store', join(dir, 'models'), '--json'];
    const run = async (args) => {
      const r = await cli([...base, ...args]);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.json;
    };
    const { model } = await run(['models', 'register', '--file', MLP_ONNX, '--uri', `file://${MLP_ONNX}`,
      '--name', 'load', '--wait']);
    await run(['keygen']);
    await run(['register']);
    daemon = spawn(deviceBinary(), [...base, 'serve', '--model', model, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    daemon.stdout.on('data', (d) => (out += d));
    const { listening } = await waitFor(() => {
      const line = out.split('\n').find((l) => l.includes('listening'));
      return line ? JSON.parse(line) : null;
    }, 60_000, 'serve to listen');

    const body = JSON.stringify(jsonTensor(mlp.inputTensor));
    const latencies = [];
    const claims = [];
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < total) {
        next += 1;
        const t0 = Date.now();
        const r = await fetch(`${listening}/attest`, { method: 'POST', body });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
        claims.push((await r.json()).claim);
        latencies.push(Date.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (Date.now() - started) / 1000;
    const blocks = new Set();
    for (const claim of claims) {
      blocks.add((await node.api.query.attestations.claims(claim)).unwrap().submittedAt.toNumber());
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    console.log(JSON.stringify({
      requests: total,
      concurrency,
      seconds,
      claimsPerSecond: Number((total / seconds).toFixed(2)),
      latencyMs: { p50: pct(0.5), p90: pct(0.9), max: latencies[latencies.length - 1] },
      blocks: blocks.size,
    }));
  } finally {
    if (daemon) daemon.kill('SIGINT');
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`serve-load failed: ${e.message}`);
  process.exit(1);
});
