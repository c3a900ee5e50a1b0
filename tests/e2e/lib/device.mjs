// Runs the `edgeproof-device` CLI for tests and the demo, and writes its input formats.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Path of the CLI: $EDGEPROOF_DEVICE_BIN, set by scripts/env.sh. */
export function deviceBinary() {
  const bin = process.env.EDGEPROOF_DEVICE_BIN;
  if (!bin || !existsSync(bin)) {
    throw new Error(`edgeproof-device not found at '${bin}': build it with scripts/test.sh`);
  }
  return bin;
}

/**
 * Runs the CLI to completion; resolves to { code, stdout, stderr, json } (`json`: the last
 * stdout line parsed, for --json runs). `onProgress` receives stderr as it comes.
 */
export function cli(args, { env = {}, timeoutMs = 240_000, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(deviceBinary(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (onProgress) onProgress(String(d));
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`'edgeproof-device ${args.join(' ')}' ran over ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': a child can exit before its stdout has been read to the end, and
    // the JSON line is the last thing it writes.
    child.on('close', (code) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        // Not a --json run, or it failed.
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/**
 * Pins the real model `file` to `inputs` (`NAME=D0,D1,...` each) into `out` with `models pin`,
 * then registers the pinned file as `name` (at its file:// URI) with `models register --wait`,
 * with the common arguments `base` (its --seed the owner). Fails unless both succeed; resolves
 * to the registration's JSON (`model`, `status`, ...).
 */
export async function pinAndRegister(base, { file, out, inputs, name }) {
  const pin = await cli([...base, 'models', 'pin', '--file', file, '--out', out, '--input', ...inputs]);
  if (pin.code !== 0) throw new Error(`models pin ${file}: ${pin.stderr}`);
  const reg = await cli([...base, 'models', 'register', '--file', out, '--name', name, '--uri', `file://${out}`, '--wait']);
  if (reg.code !== 0) throw new Error(`models register ${out}: ${reg.stderr}`);
  return reg.json;
}

/** A NumPy v1 `.npy` file of a little-endian f32 tensor of `shape` with raw `data`. */
export function npy(shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(prefix);
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

/** An f32 tensor in the CLI's JSON tensor format. */
export function jsonTensor({ shape, data }) {
  const buf = Buffer.from(data);
  const values = [];
  for (let i = 0; i < buf.length; i += 4) values.push(buf.readFloatLE(i));
  return { dtype: 'F32', shape, data: values };
}
