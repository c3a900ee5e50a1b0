// Starts a real `edgeproof-node` for a test and always stops it again.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ApiPromise, WsProvider } from '@polkadot/api';

/** Path of the node binary: $EDGEPROOF_NODE_BIN, set by scripts/env.sh. */
export function nodeBinary() {
  const bin = process.env.EDGEPROOF_NODE_BIN;
  if (!bin || !existsSync(bin)) {
    throw new Error(
      `edgeproof-node not found at '${bin}': build it with scripts/test.sh (or set EDGEPROOF_NODE_BIN)`,
    );
  }
  return bin;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs the node binary to completion with `args`; resolves to { code, stdout, stderr }. */
export function runNodeCommand(args, { timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`'edgeproof-node ${args.join(' ')}' did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    // 'close', not 'exit': only then has all of stdout (a chain spec, say) been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Starts `edgeproof-node --dev` (or `extraArgs`) on a temporary base path and free ports, and
 * connects `@polkadot/api` to it. Call `stop()` in a `finally`/`after` hook. With `prometheus`,
 * the node serves its metrics on a free port too (`metrics()` reads them).
 */
export async function startDevNode({ extraArgs = [], readyTimeoutMs = 120_000, prometheus = false } = {}) {
  const basePath = mkdtempSync(join(tmpdir(), 'edgeproof-e2e-'));
  // Ports are chosen free, then bound by the node seconds later (after genesis): another process
  // may take one meanwhile, so a start that fails with "Address already in use" is tried again
  // on new ports (at most three times).
  let rpcPort;
  let prometheusPort;
  let args;
  const choosePorts = async () => {
    rpcPort = await freePort();
    const p2pPort = await freePort();
    prometheusPort = prometheus ? await freePort() : null;
    args = [
      '--dev',
      '--base-path', basePath,
      '--rpc-port', String(rpcPort),
      '--port', String(p2pPort),
      ...(prometheus ? ['--prometheus-port', String(prometheusPort)] : ['--no-prometheus']),
      '--no-telemetry',
      '--no-mdns',
      // The tests and the demo serve models from this machine (file:// and http://127.0.0.1).
      '--allow-local-model-sources',
      ...extraArgs,
    ];
  };
  let child;
  let log = '';
  let exited = null;
  const launch = () => {
    exited = null;
    child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d) => {
      log += d;
      if (log.length > 200_000) log = log.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code, signal) => (exited = { code, signal }));
  };
  const ready = (from) =>
    waitFor(() => {
      if (exited !== null) throw new Error(`node exited early (${JSON.stringify(exited)}):\n${log}`);
      return /Running JSON-RPC server/.test(log.slice(from));
    }, readyTimeoutMs);
  const halt = async () => {
    if (child && exited === null) {
      child.kill('SIGINT');
      const gone = await waitFor(() => exited !== null, 20_000).catch(() => false);
      if (!gone) child.kill('SIGKILL');
    }
  };
  const stop = async (api) => {
    if (api) await api.disconnect().catch(() => {});
    await halt();
    rmSync(basePath, { recursive: true, force: true });
  };
  /** Stops the node and starts it again on the same database and ports (a restart). */
  const restart = async () => {
    await halt();
    const from = log.length;
    launch();
    await ready(from);
  };

  try {
    for (let attempt = 1; ; attempt += 1) {
      await choosePorts();
      const from = log.length;
      launch();
      try {
        await ready(from);
        break;
      } catch (error) {
        const portTaken = exited !== null && /Address already in use/.test(log.slice(from));
        if (!portTaken || attempt === 3) throw error;
      }
    }
    const endpoint = `ws://127.0.0.1:${rpcPort}`;
    const api = await ApiPromise.create({ provider: new WsProvider(endpoint), noInitWarn: true });
    const metrics = () => readMetrics(`http://127.0.0.1:${prometheusPort}/metrics`);
    return { api, endpoint, basePath, log: () => log, stop: () => stop(api), restart, metrics };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `predicate` every 100 ms until it returns truthy or `timeoutMs` passes. */
export async function waitFor(predicate, timeoutMs, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs and sends `tx` and resolves with the events of its block once it is in a block. */
export function sendAndWaitInBlock(tx, signer) {
  return new Promise((resolve, reject) => {
    let unsub = () => {};
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        unsub();
        let reason = dispatchError.toString();
        if (dispatchError.isModule) {
          const { section, name } = tx.registry.findMetaError(dispatchError.asModule);
          reason = `${section}.${name}`;
        }
        const error = new Error(`dispatch failed: ${reason}`);
        error.dispatchError = dispatchError;
        reject(error);
      } else if (status.isInBlock) {
        unsub();
        resolve({ blockHash: status.asInBlock, events });
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        unsub();
        reject(new Error(`transaction ${status.type}`));
      }
    })
      .then((u) => (unsub = u))
      .catch(reject);
  });
}

/**
 * The samples of a Prometheus text exposition at `url`, as
 * `[{ name, labels: { label: value }, value }]`.
 */
export async function readMetrics(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const samples = [];
  for (const line of (await response.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]),
    );
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}
